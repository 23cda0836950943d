"""Writes a tree shaped like `pip install` of a scientific stack: packages
of Python modules (compiled to bytecode, the CPU part) and larger binary
extension and data files, about half of their bytes incompressible.
Deterministic: the same arguments give the same files.

    python3 gen.py DIR FILES MEGABYTES SEED
"""
import compileall
import os
import random
import sys

root, nfiles, mb, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
modules = nfiles // 3
binaries = nfiles - modules
module_size = 4096
binary_size = max(1, (mb * 1024 * 1024 - modules * module_size) // max(1, binaries))
for i in range(nfiles):
    d = os.path.join(root, "pkg%03d" % (i % 97), "sub%d" % (i % 11))
    os.makedirs(d, exist_ok=True)
    if i < modules:
        lines = []
        while sum(map(len, lines)) < module_size:
            a, b = rng.randrange(1000), rng.randrange(1000)
            lines.append("def f%d_%d(x, y=%d):\n    return [x * %d + y for _ in range(%d)]\n\n" % (i, len(lines), a, b, a % 7))
        with open(os.path.join(d, "m%05d.py" % i), "w") as f:
            f.write("".join(lines))
    else:
        size = int(binary_size * rng.uniform(0.5, 1.5))
        with open(os.path.join(d, "lib%05d.so" % i), "wb") as f:
            f.write(rng.randbytes(size // 2))
            f.write(bytes(size - size // 2))
compileall.compile_dir(root, quiet=1, workers=0)
