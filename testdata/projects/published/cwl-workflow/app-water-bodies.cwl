cwlVersion: v1.2

# Water bodies detection, packed: every tool is in this $graph.
$graph:
  - class: Workflow
    id: main
    label: Water bodies detection
    requirements:
      - class: SubworkflowFeatureRequirement
    inputs:
      item: {type: string}
    outputs: []
    steps:
      crop:
        run: "#crop"
        in: {item: item}
        out: []
      norm_diff:
        run: "#norm_diff"
        in: {item: item}
        out: []
      otsu:
        run: "#otsu"
        in: {item: item}
        out: []
      stack:
        run: "#rio_stack"
        in: {item: item}
        out: []
      color:
        run: "#rio_color"
        in: {item: item}
        out: []
      info:
        run: "#rio_info"
        in: {item: item}
        out: []

  # Map-form hints, the image as a block scalar.
  - class: CommandLineTool
    id: crop
    hints:
      DockerRequirement:
        dockerPull: |-
          ghcr.io/eoap/water-bodies/crop:1.0.0
    baseCommand: [echo, crop]
    inputs:
      item: {type: string, inputBinding: {position: 1}}
    outputs: []

  # The DockerRequirement comes from another file.
  - class: CommandLineTool
    id: norm_diff
    requirements:
      - $import: norm-diff-docker.yml
      - class: InlineJavascriptRequirement
    baseCommand: [echo, norm_diff]
    inputs:
      item: {type: string, inputBinding: {position: 1}}
    outputs: []

  # List-form hints, single-quoted.
  - class: CommandLineTool
    id: otsu
    hints:
      - class: DockerRequirement
        dockerPull: 'ghcr.io/eoap/water-bodies/otsu:1.0.0'   # the threshold
    baseCommand: [echo, otsu]
    inputs:
      item: {type: string, inputBinding: {position: 1}}
    outputs: []

  # Three processes of one image: the hints are written once and aliased.
  - class: CommandLineTool
    id: rio_stack
    hints: &rio
      DockerRequirement:
        dockerPull: "ghcr.io/eoap/water-bodies/rio:1.0.0"
    baseCommand: [echo, rio, stack]
    inputs:
      item: {type: string, inputBinding: {position: 1}}
    outputs: []
  - class: CommandLineTool
    id: rio_color
    hints: *rio
    baseCommand: [echo, rio, color]
    inputs:
      item: {type: string, inputBinding: {position: 1}}
    outputs: []
  - class: CommandLineTool
    id: rio_info
    hints: *rio
    baseCommand: [echo, rio, info]
    inputs:
      item: {type: string, inputBinding: {position: 1}}
    outputs: []
