cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  requirements: {SubworkflowFeatureRequirement: {}}
  inputs: []
  outputs: []
  steps:
    qc: {run: '#fastqc.cwl', in: [], out: []}
- class: Workflow
  id: fastqc.cwl
  inputs: []
  outputs: []
  steps:
    run: {run: '#fastqc.cwl_2', in: [], out: []}
- class: CommandLineTool
  id: fastqc.cwl_2
  baseCommand: fastqc
  inputs: []
  outputs: []
  requirements:
    DockerRequirement:
      dockerPull: localhost:5000/pkg/fastqc:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111
