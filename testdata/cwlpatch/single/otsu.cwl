cwlVersion: v1.2
class: CommandLineTool
id: "#otsu"
baseCommand: [echo, otsu]
inputs:
  msg:
    type: string
    inputBinding: {position: 1}
outputs:
  out: stdout
