cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  requirements:
    DockerRequirement: {dockerPull: docker.io/attacker/evil:latest}
  inputs: []
  outputs: []
  steps:
    a: {run: '#alpha', in: [], out: []}
    o: {run: '#other', in: [], out: []}
- class: CommandLineTool
  id: alpha
  baseCommand: echo
  inputs: []
  outputs: []
  requirements:
    DockerRequirement: {dockerPull: "localhost:5000/pkg/alpha:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111"}
- class: CommandLineTool
  id: other
  baseCommand: cat
  inputs: []
  outputs: []
  hints:
    DockerRequirement: {dockerPull: "docker.io/library/alpine@sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"}
