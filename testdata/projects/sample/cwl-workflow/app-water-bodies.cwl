cwlVersion: v1.2
# Water bodies detection, in the shape of the EOAP water-bodies example:
# crop each band (scatter), normalized difference, Otsu threshold.
# The dockerPull values are pinned by cwlpatch after each build.
$namespaces:
  s: https://schema.org/
s:softwareVersion: 0.1.0

$graph:
  - class: Workflow
    id: water-bodies
    label: Water bodies detection
    doc: Detects water bodies in a table of sampled reflectances.
    requirements:
      - class: ScatterFeatureRequirement
      - class: SubworkflowFeatureRequirement
    inputs:
      points:
        type: File
        label: Points
        doc: CSV of id,x,y,green,nir reflectances
      aoi:
        type: string
        label: Area of interest
        doc: area of interest, minx,miny,maxx,maxy
      bands:
        type: string[]
        label: Bands
        doc: the two bands of the normalized difference
        default: [green, nir]
    outputs:
      water:
        type: File
        outputSource: otsu/water
    steps:
      crop:
        run: "#crop"
        in:
          csv: points
          bbox: aoi
          band: bands
        out: [cropped]
        scatter: band
      norm_diff:
        run: "#norm_diff"
        in:
          rasters: crop/cropped
        out: [ndwi]
      otsu:
        run: "#otsu"
        in:
          raster: norm_diff/ndwi
        out: [water]

  - class: CommandLineTool
    id: crop
    requirements:
      ResourceRequirement: {coresMin: 1, ramMin: 64}
    hints:
      DockerRequirement:
        dockerPull: 127.0.0.1:5000/eoap-sample/crop:latest
    baseCommand: [crop]
    inputs:
      csv:
        type: File
        inputBinding: {position: 1}
      bbox:
        type: string
        inputBinding: {position: 2}
      band:
        type: string
        inputBinding: {position: 3}
    outputs:
      cropped:
        type: File
        outputBinding: {glob: cropped.csv}

  - class: CommandLineTool
    id: norm_diff
    requirements:
      ResourceRequirement: {coresMin: 1, ramMin: 64}
    hints:
      DockerRequirement:
        dockerPull: 127.0.0.1:5000/eoap-sample/norm_diff:latest
    baseCommand: [norm_diff]
    inputs:
      rasters:
        type: File[]
        inputBinding: {position: 1}
    outputs:
      ndwi:
        type: File
        outputBinding: {glob: ndwi.csv}

  - class: CommandLineTool
    id: otsu
    requirements:
      ResourceRequirement:
        coresMin: 1
        coresMax: 1
        ramMin: 64
        ramMax: 256
    hints:
      DockerRequirement:
        dockerPull: 127.0.0.1:5000/eoap-sample/otsu:latest
    baseCommand: [otsu]
    inputs:
      raster:
        type: File
        inputBinding: {position: 1}
    outputs:
      water:
        type: File
        outputBinding: {glob: water.csv}
