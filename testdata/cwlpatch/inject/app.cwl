cwlVersion: v1.2
$graph:
  - class: Workflow
    id: main
    inputs:
      msg: string
    outputs:
      injectmap_out: {type: File, outputSource: injectmap/out}
      noreqs_out: {type: File, outputSource: noreqs/out}
    steps:
      injectmap: {run: "#injectmap", in: {msg: msg}, out: [out]}
      noreqs: {run: "#noreqs", in: {msg: msg}, out: [out]}

  - class: CommandLineTool
    id: injectmap
    requirements:
      InlineJavascriptRequirement: {}
      ResourceRequirement:
        coresMin: 1
    baseCommand: [echo, injectmap]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout

  - class: CommandLineTool
    id: noreqs
    doc: no requirements and no hints at all
    baseCommand: [echo, noreqs]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout
