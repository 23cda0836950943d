cwlVersion: v1.2
class: Workflow
inputs: []
outputs: []
steps:
  a: {run: tools/alpha.cwl, in: [], out: []}
  b: {run: tools/beta.cwl, in: [], out: []}
  c: {run: tools/gamma.cwl, in: [], out: []}
