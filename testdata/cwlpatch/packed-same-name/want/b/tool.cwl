cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs: []
outputs: []
requirements:
  DockerRequirement:
    dockerPull: localhost:5000/pkg/echo:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111
