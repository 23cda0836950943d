cwlVersion: v1.2
class: CommandLineTool
id: "#otsu"
requirements:
  DockerRequirement:
    dockerPull: registry.example.org/eoap/otsu:dev@sha256:1111111111111111111111111111111111111111111111111111111111111111
baseCommand: [echo, otsu]
inputs:
  msg:
    type: string
    inputBinding: {position: 1}
outputs:
  out: stdout
