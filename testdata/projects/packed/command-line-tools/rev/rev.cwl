cwlVersion: v1.2
class: CommandLineTool
doc: Reverses its input; no id, so cwltool --pack names its copy after this file.
hints:
  DockerRequirement:
    dockerPull: localhost:5000/packed/rev:0.0.1
baseCommand: rev
stdout: rev.txt
inputs:
  text: {type: string, inputBinding: {position: 1}}
outputs:
  out: stdout
