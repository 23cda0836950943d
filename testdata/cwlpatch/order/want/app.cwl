cwlVersion: v1.2
# A packed workflow: three tools listed zeta, alpha, mid in project.toml.

$graph:
  - class: Workflow
    id: main
    inputs:
      msg: string
    outputs:
      zeta_out: {type: File, outputSource: zeta/out}
      alpha_out: {type: File, outputSource: alpha/out}
      mid_out: {type: File, outputSource: mid/out}
    steps:
      zeta: {run: "#zeta", in: {msg: msg}, out: [out]}
      alpha: {run: "#alpha", in: {msg: msg}, out: [out]}
      mid: {run: "#mid", in: {msg: msg}, out: [out]}

  - class: CommandLineTool
    id: zeta
    # hints in map form, plain scalar with a trailing comment
    hints:
      DockerRequirement:
        dockerPull: localhost:5000/pkg/zeta:v1@sha256:3333333333333333333333333333333333333333333333333333333333333333   # replaced by cwlpatch

    baseCommand: [echo, zeta]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout

  - class: CommandLineTool
    id: alpha
    requirements:
      DockerRequirement:
        dockerPull: "localhost:5000/pkg/alpha:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111"
      InlineJavascriptRequirement: {}
    doc: |
      A block scalar that must survive byte for byte.
        indented line
    baseCommand: [echo, alpha]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout

  - class: CommandLineTool
    id: mid
    hints:
      DockerRequirement: {dockerPull: 'localhost:5000/pkg/mid@sha256:2222222222222222222222222222222222222222222222222222222222222222'}
    baseCommand: [echo, mid]
    inputs:
      msg:
        type: string
        inputBinding: {position: 1}
    outputs:
      out: stdout
