cwlVersion: v1.2
$graph:
  - class: Workflow
    id: main
    inputs:
      msg: string
    outputs:
      crop_out: {type: File, outputSource: crop/out}
      otsu_out: {type: File, outputSource: otsu/out}
    steps:
      crop: {run: "#crop", in: {msg: msg}, out: [out]}
      otsu: {run: "#otsu", in: {msg: msg}, out: [out]}

  - class: CommandLineTool
    id: crop
    hints:
      DockerRequirement:
        dockerPull: localhost:5000/pkg/crop
    baseCommand: [echo, crop]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout

  - class: CommandLineTool
    id: otsu
    baseCommand: [echo, otsu]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout
