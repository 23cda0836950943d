cwlVersion: v1.2
$graph:
  - class: Workflow
    id: main
    inputs:
      message: string
    outputs: []
    steps:
      a:
        run: "#crop"
        in: {message: message}
        out: []
  - class: CommandLineTool
    id: crop
    baseCommand: echo
    inputs:
      message:
        type: string
        inputBinding: {position: 1}
    outputs: []
  - class: CommandLineTool
    id: otsu
    baseCommand: echo
    inputs: []
    outputs: []
  - class: CommandLineTool
    id: norm_diff
    baseCommand: echo
    inputs: []
    outputs: []
