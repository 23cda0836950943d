#!/bin/sh
# otsu NDWI: split the points into water (1) and land (0) with Otsu's
# threshold on the ndwi column, to water.csv (id,x,y,water).
set -eu
awk -F, -v OFS=, '
  NR > 1 { n++; id[n] = $1; x[n] = $2; y[n] = $3; v[n] = $4 }
  END {
    # Try every observed value as threshold; keep the one maximising the
    # between-class variance.
    best = -1; t = 0
    for (i = 1; i <= n; i++) {
      w0 = 0; s0 = 0; w1 = 0; s1 = 0
      for (j = 1; j <= n; j++) if (v[j] <= v[i]) { w0++; s0 += v[j] } else { w1++; s1 += v[j] }
      if (w0 == 0 || w1 == 0) continue
      d = s0 / w0 - s1 / w1; var = w0 * w1 * d * d
      if (var > best) { best = var; t = v[i] }
    }
    print "id,x,y,water"
    for (i = 1; i <= n; i++) print id[i], x[i], y[i], (v[i] > t ? 1 : 0)
    printf "otsu: threshold %.4f\n", t > "/dev/stderr"
  }
' "$1" > water.csv
