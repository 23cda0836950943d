class: CommandLineTool
cwlVersion: v1.2
hints:
  DockerRequirement:
    dockerPull: {$include: image.txt}
inputs: []
outputs: []
baseCommand: echo
