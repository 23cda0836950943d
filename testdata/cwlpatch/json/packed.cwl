{
    "$graph": [
        {
            "class": "CommandLineTool",
            "id": "#crop.cwl",
            "hints": [
                {
                    "dockerPull": "localhost:5000/pkg/crop:latest",
                    "class": "DockerRequirement"
                }
            ],
            "baseCommand": [
                "echo",
                "crop"
            ],
            "inputs": [
                {
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    },
                    "id": "#crop.cwl/crop/msg"
                }
            ],
            "stdout": "b8d303e43478e96e67ad5d5b6b4caf5ddf0b317e",
            "outputs": [
                {
                    "type": "File",
                    "id": "#crop.cwl/crop/out",
                    "outputBinding": {
                        "glob": "b8d303e43478e96e67ad5d5b6b4caf5ddf0b317e"
                    }
                }
            ]
        },
        {
            "class": "CommandLineTool",
            "id": "#otsu.cwl",
            "baseCommand": [
                "echo",
                "otsu"
            ],
            "inputs": [
                {
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    },
                    "id": "#otsu.cwl/otsu/msg"
                }
            ],
            "outputs": [
                {
                    "type": "File",
                    "id": "#otsu.cwl/otsu/out",
                    "outputBinding": {
                        "glob": "031980280d428ec9bf5a690e862d187c6a221028"
                    }
                }
            ],
            "stdout": "031980280d428ec9bf5a690e862d187c6a221028"
        },
        {
            "class": "Workflow",
            "inputs": [
                {
                    "type": "string",
                    "id": "#main/msg"
                }
            ],
            "outputs": [
                {
                    "type": "File",
                    "outputSource": "#main/crop/out",
                    "id": "#main/crop_out"
                },
                {
                    "type": "File",
                    "outputSource": "#main/otsu/out",
                    "id": "#main/otsu_out"
                }
            ],
            "steps": [
                {
                    "run": "#crop.cwl",
                    "in": [
                        {
                            "source": "#main/msg",
                            "id": "#main/crop/msg"
                        }
                    ],
                    "out": [
                        "#main/crop/out"
                    ],
                    "id": "#main/crop"
                },
                {
                    "run": "#otsu.cwl",
                    "in": [
                        {
                            "source": "#main/msg",
                            "id": "#main/otsu/msg"
                        }
                    ],
                    "out": [
                        "#main/otsu/out"
                    ],
                    "id": "#main/otsu"
                }
            ],
            "id": "#main"
        }
    ],
    "cwlVersion": "v1.2"
}
