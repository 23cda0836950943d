cwlVersion: v1.2
# Who wins, as cwltool decides: a tool's own requirements beat everything;
# a step's or an enclosing workflow's requirements beat a tool's hints.
$graph:
- class: Workflow
  id: main
  requirements: [{class: SubworkflowFeatureRequirement}]
  inputs: []
  outputs: []
  steps:
    a: {run: '#alpha', in: [], out: []}
    b:
      run: '#beta'
      requirements: {DockerRequirement: {dockerPull: "localhost:5000/pkg/step-image:1"}}
      in: []
      out: []
    c: {run: '#sub', in: [], out: []}
- class: Workflow
  id: sub
  requirements:
    DockerRequirement: {dockerPull: "localhost:5000/pkg/sub-image:1"}
  inputs: []
  outputs: []
  steps:
    g: {run: '#gamma', in: [], out: []}
    d: {run: '#delta', in: [], out: []}
- class: CommandLineTool
  id: alpha
  hints: {DockerRequirement: {dockerPull: "localhost:5000/pkg/alpha:old"}}
  inputs: []
  outputs: []
  baseCommand: echo
- class: CommandLineTool
  id: beta
  hints: {DockerRequirement: {dockerPull: "localhost:5000/pkg/beta:old"}}
  inputs: []
  outputs: []
  baseCommand: echo
- class: CommandLineTool
  id: gamma
  hints: {DockerRequirement: {dockerPull: "localhost:5000/pkg/gamma:old"}}
  inputs: []
  outputs: []
  baseCommand: echo
- class: CommandLineTool
  id: delta
  requirements: {DockerRequirement: {dockerPull: "localhost:5000/pkg/delta:old"}}
  inputs: []
  outputs: []
  baseCommand: echo
