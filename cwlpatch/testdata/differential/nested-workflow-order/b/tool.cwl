cwlVersion: v1.2
class: CommandLineTool
label: p0
baseCommand: echo
inputs: []
outputs: []
hints:
    - class: DockerRequirement
      dockerPull: localhost:5000/gen/t0:dev
