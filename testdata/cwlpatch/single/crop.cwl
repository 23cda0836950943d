#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: "#crop"
hints:
  DockerRequirement:
    dockerPull: registry.example.org/eoap/crop:latest
baseCommand: [echo, crop]
inputs:
  msg:
    type: string
    inputBinding: {position: 1}
outputs:
  out: stdout
