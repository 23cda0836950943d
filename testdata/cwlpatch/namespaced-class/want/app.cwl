cwlVersion: v1.2
$namespaces:
  cwl: "https://w3id.org/cwl/cwl#"
$graph:
- class: Workflow
  id: main
  inputs: []
  outputs: []
  steps:
    a: {run: '#alpha', in: [], out: []}
    b: {run: '#beta', in: [], out: []}
- class: CommandLineTool
  id: alpha
  baseCommand: echo
  inputs: []
  outputs: []
  requirements:
  - class: cwl:DockerRequirement
    dockerPull: localhost:5000/pkg/alpha:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111
- class: CommandLineTool
  id: beta
  baseCommand: echo
  inputs: []
  outputs: []
  hints:
    https://w3id.org/cwl/cwl#DockerRequirement:
      dockerPull: localhost:5000/pkg/beta:v1@sha256:2222222222222222222222222222222222222222222222222222222222222222
