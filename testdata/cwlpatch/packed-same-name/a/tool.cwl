cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs: []
outputs: []
requirements:
  DockerRequirement:
    dockerPull: docker.io/library/alpine@sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
