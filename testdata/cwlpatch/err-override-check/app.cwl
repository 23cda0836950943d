cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  requirements:
    DockerRequirement: {dockerPull: "localhost:5000/pkg/everything:1"}
  inputs: []
  outputs: []
  steps:
    s: {run: '#alpha', in: [], out: []}
- class: CommandLineTool
  id: alpha
  hints: {DockerRequirement: {dockerPull: "localhost:5000/pkg/alpha:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111"}}
  inputs: []
  outputs: []
  baseCommand: echo
