cwlVersion: v1.2
class: CommandLineTool
requirements:
- $import: ../docker.yml
inputs: []
outputs: []
baseCommand: beta
