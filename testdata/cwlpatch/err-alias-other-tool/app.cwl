cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: alpha
  hints:
    DockerRequirement:
      dockerPull: &pull localhost:5000/pkg/alpha:old
  inputs: []
  outputs: []
  baseCommand: echo
- class: CommandLineTool
  id: beta
  hints: {DockerRequirement: {dockerPull: *pull}}
  inputs: []
  outputs: []
  baseCommand: echo
