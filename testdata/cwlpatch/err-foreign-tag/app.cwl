cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: alpha
  hints: &img
    DockerRequirement:
      dockerPull: localhost:5000/pkg/alpha:old
  inputs: []
  outputs: []
  baseCommand: echo
- class: CommandLineTool
  id: beta
  hints: *img
  inputs: []
  outputs: []
  baseCommand: echo
