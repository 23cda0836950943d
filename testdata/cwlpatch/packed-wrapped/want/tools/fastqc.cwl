cwlVersion: v1.2
class: CommandLineTool
baseCommand: fastqc
inputs: []
outputs: []
requirements:
  DockerRequirement:
    dockerPull: localhost:5000/pkg/fastqc:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111
