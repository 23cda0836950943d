cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  inputs: []
  outputs: []
  steps:
    a: {run: '#alpha', in: [], out: []}
    stac:
      run: https://github.com/eoap/schemas/releases/download/0.2.0/stac-api-client.0.2.0.cwl
      in: []
      out: []
- class: CommandLineTool
  id: alpha
  baseCommand: echo
  inputs: []
  outputs: []
  requirements:
    DockerRequirement: {dockerPull: "localhost:5000/pkg/alpha:1.0"}
