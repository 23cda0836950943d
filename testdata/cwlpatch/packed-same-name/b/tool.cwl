cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs: []
outputs: []
requirements:
  DockerRequirement:
    dockerPull: localhost:5000/pkg/echo:1.0
