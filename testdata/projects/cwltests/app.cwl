cwlVersion: v1.2
$graph:
  - class: CommandLineTool
    id: echo
    baseCommand: [echo]
    inputs:
      msg: {type: string, inputBinding: {position: 1}}
      file: {type: "File?", inputBinding: {position: 2}}
      list: {type: "string[]?", inputBinding: {position: 3}}
    outputs: []
  - class: Workflow
    id: main
    inputs:
      msg: string
    outputs: []
    steps:
      echo: {run: "#echo", in: {msg: msg}, out: []}
