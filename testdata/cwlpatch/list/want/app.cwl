cwlVersion: v1.2
$graph:
  - class: Workflow
    id: main
    inputs:
      msg: string
    outputs:
      hintlist_out: {type: File, outputSource: hintlist/out}
      reqlist_out: {type: File, outputSource: reqlist/out}
      injectlist_out: {type: File, outputSource: injectlist/out}
    steps:
      hintlist: {run: "#hintlist", in: {msg: msg}, out: [out]}
      reqlist: {run: "#reqlist", in: {msg: msg}, out: [out]}
      injectlist: {run: "#injectlist", in: {msg: msg}, out: [out]}

  - class: CommandLineTool
    id: hintlist
    hints:
      - class: ResourceRequirement
        coresMin: 1
      - class: DockerRequirement
        dockerPull: localhost:5000/pkg/hintlist:dev@sha256:1111111111111111111111111111111111111111111111111111111111111111
    baseCommand: [echo, hintlist]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout

  - class: CommandLineTool
    id: reqlist
    requirements:
    - class: DockerRequirement
      dockerPull: "localhost:5000/pkg/reqlist:dev@sha256:2222222222222222222222222222222222222222222222222222222222222222"
    baseCommand: [echo, reqlist]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout

  - class: CommandLineTool
    id: injectlist
    requirements:
      - class: DockerRequirement
        dockerPull: localhost:5000/pkg/injectlist:dev@sha256:3333333333333333333333333333333333333333333333333333333333333333
      - class: InlineJavascriptRequirement
    hints:
      - class: ResourceRequirement
        ramMin: 64
    baseCommand: [echo, injectlist]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout
