cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: alpha
  requirements:
  - $import: docker.yml
  inputs: []
  outputs: []
  baseCommand: echo
- class: CommandLineTool
  id: gamma
  requirements: [{$import: docker.yml}]
  inputs: []
  outputs: []
  baseCommand: echo
