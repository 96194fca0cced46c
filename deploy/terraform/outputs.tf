output "server_floating_ip" {
  description = "Public address of the k3s server (SSH as cc@, Kubernetes API on 6443, HTTP ingress)."
  value       = openstack_networking_floatingip_v2.server.address
}

output "gpu_floating_ip" {
  description = "Public address of the GPU bare-metal node, or null without a GPU lease."
  value       = one(openstack_networking_floatingip_v2.gpu[*].address)
}

output "cpu_agent_private_ips" {
  description = "Private addresses of the CPU agent nodes."
  value       = openstack_compute_instance_v2.cpu_agent[*].access_ip_v4
}

output "data_volume_id" {
  description = "Block volume holding datasets, MLflow artifacts and PostgreSQL."
  value       = openstack_blockstorage_volume_v3.data.id
}

output "object_store_container" {
  description = "Swift container for raw data drops and model exports."
  value       = openstack_objectstorage_container_v1.artifacts.name
}

output "kubeconfig_command" {
  description = "Copies the cluster's kubeconfig to this machine, pointed at the floating IP."
  value       = "ssh cc@${openstack_networking_floatingip_v2.server.address} sudo cat /etc/rancher/k3s/k3s.yaml | sed 's/127.0.0.1/${openstack_networking_floatingip_v2.server.address}/' > kubeconfig.yaml"
}

output "work_volume_nfs" {
  description = "NFS export of the work volume on the k3s server (server:path), as PV taigimed-work-nfs must name it."
  value       = "${cidrhost(var.cluster_cidr, 0)}:/srv/taigimed/work"
}

output "gpu_vendor" {
  description = "The GPU node's vendor: run deploy/release/gpu-vendor.sh with it before applying the manifests."
  value       = var.gpu_vendor
}
