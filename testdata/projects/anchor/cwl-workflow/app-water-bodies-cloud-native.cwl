cwlVersion: v1.0
$namespaces:
  s: https://schema.org/
s:softwareVersion: 1.0.0

$graph:
  # The workflow: one scatter over the STAC items.
  - class: Workflow
    id: water-bodies
    label: Water bodies detection based on NDWI and the otsu threshold
    doc: Water bodies detection based on NDWI and otsu threshold applied to a single Sentinel-2 COG STAC item
    requirements:
      - class: ScatterFeatureRequirement
      - class: SubworkflowFeatureRequirement
    inputs:
      aoi:
        label: area of interest
        doc: area of interest as a bounding box
        type: string
      epsg:
        label: EPSG code
        doc: EPSG code
        type: string
        default: "EPSG:4326"
      stac_items:
        label: Sentinel-2 STAC items
        doc: list of Sentinel-2 COG STAC items
        type: string[]
    outputs:
      stac_catalog:
        outputSource:
          - node_stac/stac_catalog
        type: Directory
    steps:
      node_crop:
        run: "#crop"
        in:
          item: stac_items
          aoi: aoi
          epsg: epsg
          band:
            default: green
        out:
          - cropped
        scatter: item
        scatterMethod: dotproduct
      node_normalized_difference:
        run: "#norm_diff"
        in:
          rasters:
            source: node_crop/cropped
        out:
          - ndwi
      node_otsu:
        run: "#otsu"
        in:
          raster:
            source: node_normalized_difference/ndwi
        out:
          - binary_mask_item
      node_stac:
        run: "#stac"
        in:
          item: stac_items
          rasters:
            source: node_otsu/binary_mask_item
        out:
          - stac_catalog

  - class: CommandLineTool
    id: crop
    hints:
      DockerRequirement:
        dockerPull: ghcr.io/eoap/crop:latest
    baseCommand: ["crop"]
    arguments: []
    inputs:
      item:
        type: string
        inputBinding:
          prefix: --input-item
      aoi:
        type: string
        inputBinding:
          prefix: --aoi
      epsg:
        type: string
        inputBinding:
          prefix: --epsg
      band:
        type: string
        inputBinding:
          prefix: --band
    outputs:
      cropped:
        outputBinding:
          glob: '*.tif'
        type: File

  - class: CommandLineTool
    id: norm_diff
    hints:
      DockerRequirement:
        dockerPull: 'ghcr.io/eoap/norm_diff:latest'
    baseCommand: ["norm_diff"]
    arguments: []
    inputs:
      rasters:
        type: File[]
        inputBinding:
          position: 1
    outputs:
      ndwi:
        outputBinding:
          glob: '*.tif'
        type: File

  - class: CommandLineTool
    id: otsu
    requirements:
      DockerRequirement:
        dockerPull: "ghcr.io/eoap/otsu:latest"
    baseCommand: ["otsu"]
    arguments: []
    inputs:
      raster:
        type: File
        inputBinding:
          position: 1
    outputs:
      binary_mask_item:
        outputBinding:
          glob: '*.tif'
        type: File

  - class: CommandLineTool
    id: stac
    requirements:
      InlineJavascriptRequirement: {}
    baseCommand: ["stac"]
    arguments: []
    inputs:
      item:
        type:
          type: array
          items: string
          inputBinding:
            prefix: --input-item
      rasters:
        type: File
        inputBinding:
          prefix: --water-body
    outputs:
      stac_catalog:
        outputBinding:
          glob: .
        type: Directory

  - class: CommandLineTool
    id: stac-geoparquet
    baseCommand: ["stac-geoparquet"]
    arguments: []
    inputs:
      stac_catalog:
        type: Directory
        inputBinding:
          prefix: --stac-catalog
    outputs:
      stac_geoparquet:
        outputBinding:
          glob: '*.parquet'
        type: File
