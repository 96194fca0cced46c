variable "kvm_cloud" {
  description = "Entry in clouds.yaml for KVM@TACC (CPU virtual machines)."
  type        = string
  default     = "kvm_tacc"
}

variable "chi_cloud" {
  description = "Entry in clouds.yaml for the bare-metal site holding the GPU lease (CHI@TACC or CHI@UC)."
  type        = string
  default     = "chi_tacc"
}

variable "project_suffix" {
  description = "Suffix on every resource name (e.g. your project id) so several deployments can share a Chameleon project."
  type        = string
  default     = "taigimed"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.project_suffix))
    error_message = "project_suffix must be 2-31 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "key_pair" {
  description = "Name of an SSH key pair already uploaded to both KVM@TACC and the GPU site."
  type        = string
  validation {
    condition     = length(var.key_pair) > 0
    error_message = "key_pair must name an existing OpenStack key pair."
  }
}

variable "admin_cidr" {
  description = "Address range allowed to reach SSH and the Kubernetes API (your own IP as a /32)."
  type        = string
  validation {
    condition     = can(cidrhost(var.admin_cidr, 0))
    error_message = "admin_cidr must be a CIDR such as 203.0.113.7/32."
  }
}

variable "cpu_image" {
  description = "Image name for the KVM@TACC CPU nodes."
  type        = string
  default     = "CC-Ubuntu24.04"
}

variable "cpu_flavor" {
  description = "KVM@TACC flavor for the k3s server and CPU agents (staging holds a 7B model on CPU: 32 GB)."
  type        = string
  default     = "m1.xxlarge"
}

variable "cpu_agent_count" {
  description = "CPU agent nodes besides the k3s server (pipeline steps, staging, Prometheus)."
  type        = number
  default     = 1
  validation {
    condition     = var.cpu_agent_count >= 0 && var.cpu_agent_count <= 8 && floor(var.cpu_agent_count) == var.cpu_agent_count
    error_message = "cpu_agent_count must be a whole number from 0 to 8."
  }
}

variable "gpu_reservation_id" {
  description = "Blazar reservation id of the GPU bare-metal lease (the lease's 'reservations' id, not the lease id); empty skips the GPU node."
  type        = string
  default     = ""
  validation {
    condition     = var.gpu_reservation_id == "" || can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.gpu_reservation_id))
    error_message = "gpu_reservation_id must be a reservation UUID such as 0a1b2c3d-... or empty."
  }
}

variable "gpu_image" {
  description = "Bare-metal image for the GPU node, with CUDA drivers."
  type        = string
  default     = "CC-Ubuntu22.04-CUDA"
}

variable "gpu_network" {
  description = "Network the bare-metal GPU node attaches to on its site."
  type        = string
  default     = "sharednet1"
}

variable "public_network" {
  description = "External network providing floating IPs on both sites."
  type        = string
  default     = "public"
}

variable "subnet_cidr" {
  description = "Private subnet of the KVM@TACC nodes."
  type        = string
  default     = "192.168.50.0/24"
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a CIDR such as 192.168.50.0/24."
  }
}

variable "data_volume_gb" {
  description = "Size of the block volume on the k3s server for datasets, MLflow artifacts and PostgreSQL."
  type        = number
  default     = 200
  validation {
    condition     = var.data_volume_gb >= 20 && var.data_volume_gb <= 2000
    error_message = "data_volume_gb must be between 20 and 2000."
  }
}

variable "k3s_version" {
  description = "k3s release installed on every node."
  type        = string
  default     = "v1.32.4+k3s1"
  validation {
    condition     = can(regex("^v1\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$", var.k3s_version))
    error_message = "k3s_version must look like v1.32.4+k3s1."
  }
}

variable "gpu_time_slices" {
  description = "Pods that may share each GPU (NVIDIA device plugin time-slicing): production vLLM, canary vLLM and one training or evaluation pod share the leased node's GPUs."
  type        = number
  default     = 2
  validation {
    condition     = var.gpu_time_slices >= 1 && var.gpu_time_slices <= 8
    error_message = "gpu_time_slices must be between 1 and 8."
  }
}

variable "cluster_cidr" {
  description = "Pod range of the k3s cluster (flannel). The server holds its first /24 and serves the work volume over NFS at its first address, only to this range (PV taigimed-work-nfs in deploy/argo/work-volume.yaml names that address)."
  type        = string
  default     = "10.42.0.0/16"
  validation {
    condition     = can(cidrhost(var.cluster_cidr, 0))
    error_message = "cluster_cidr must be a CIDR block, e.g. 10.42.0.0/16."
  }
}

variable "image_registry" {
  description = "Registry holding the project's images and its mirrors of third-party ones (deploy/release/mirror-images.sh): every image the cluster runs comes from here."
  type        = string
  default     = "ghcr.io/taigimed"
  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$", var.image_registry))
    error_message = "image_registry must look like ghcr.io/your-org."
  }
}

variable "gpu_vendor" {
  description = "Vendor of the leased GPU node: nvidia (gpu_a100_pcie, CUDA) or amd (gpu_mi100, ROCm). Selects the device plugin, the node's label and taint (<vendor>.com/gpu) and the container runtime; deploy/release/gpu-vendor.sh switches the manifests to match (terraform output gpu_vendor)."
  type        = string
  default     = "nvidia"
  validation {
    condition     = contains(["nvidia", "amd"], var.gpu_vendor)
    error_message = "gpu_vendor must be nvidia or amd."
  }
}
