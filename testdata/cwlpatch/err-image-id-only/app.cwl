cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: alpha
  requirements:
  - class: DockerRequirement
    dockerImageId: alpha-local
    dockerFile: {$include: Dockerfile}
  inputs: []
  outputs: []
  baseCommand: echo
