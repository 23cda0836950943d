cwlVersion: v1.2
class: CommandLineTool
baseCommand: fastqc
inputs: []
outputs: []
requirements:
  DockerRequirement:
    dockerPull: localhost:5000/pkg/fastqc:0.12
