cwlVersion: v1.2
class: Workflow
id: main
inputs:
  msg: string
outputs:
  out: {type: File, outputSource: step/out}
steps:
  step:
    in: {msg: msg}
    out: [out]
    run:
      class: CommandLineTool
      id: inl
      hints:
        DockerRequirement:
          dockerPull: localhost:5000/pkg/inl:latest
      baseCommand: [echo]
      inputs:
        msg:
          type: string
          inputBinding: {position: 1}
      outputs:
        out: stdout
