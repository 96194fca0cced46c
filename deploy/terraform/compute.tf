locals {
  # Written by the server's cloud-init into k3s's auto-deploy folder: the device plugin of
  # the leased node's vendor (gpu_vendor), one variable for the whole GPU side.
  device_plugin = var.gpu_vendor == "amd" ? templatefile("${path.module}/cloud-init/amd-device-plugin.yaml.tftpl", {
    image_registry = var.image_registry
    }) : templatefile("${path.module}/cloud-init/nvidia-device-plugin.yaml.tftpl", {
    gpu_time_slices = var.gpu_time_slices
    image_registry  = var.image_registry
  })
}

resource "random_password" "k3s_token" {
  length  = 48
  special = false
}

# The k3s server on KVM@TACC: control plane, Traefik ingress, and the block volume.
data "openstack_images_image_v2" "cpu" {
  provider    = openstack.kvm
  name        = var.cpu_image
  most_recent = true
}

resource "openstack_compute_instance_v2" "server" {
  provider        = openstack.kvm
  name            = "k3s-server-${var.project_suffix}"
  flavor_name     = var.cpu_flavor
  key_pair        = var.key_pair
  security_groups = [openstack_networking_secgroup_v2.cluster.name]
  network {
    uuid = openstack_networking_network_v2.private.id
  }
  # The data volume is attached at boot (the second disk, /dev/vdb), so cloud-init's
  # fs_setup and mounts find it and the NFS export lands on it, not on the root disk. A
  # separate volume-attach resource would attach it after cloud-init had already run.
  block_device {
    uuid                  = data.openstack_images_image_v2.cpu.id
    source_type           = "image"
    destination_type      = "local"
    boot_index            = 0
    delete_on_termination = true
  }
  block_device {
    uuid                  = openstack_blockstorage_volume_v3.data.id
    source_type           = "volume"
    destination_type      = "volume"
    boot_index            = -1
    delete_on_termination = false
  }
  user_data = templatefile("${path.module}/cloud-init/k3s-server.yaml.tftpl", {
    k3s_version = var.k3s_version
    k3s_token   = random_password.k3s_token.result
    public_ip   = openstack_networking_floatingip_v2.server.address
    device_plugin = local.device_plugin
    cluster_cidr  = var.cluster_cidr
  })
  depends_on = [openstack_networking_router_interface_v2.router]
}

resource "openstack_networking_floatingip_v2" "server" {
  provider = openstack.kvm
  pool     = var.public_network
}

resource "openstack_networking_floatingip_associate_v2" "server" {
  provider    = openstack.kvm
  floating_ip = openstack_networking_floatingip_v2.server.address
  port_id     = openstack_compute_instance_v2.server.network[0].port
}

resource "openstack_compute_instance_v2" "cpu_agent" {
  count           = var.cpu_agent_count
  provider        = openstack.kvm
  name            = "k3s-cpu-${count.index}-${var.project_suffix}"
  image_name      = var.cpu_image
  flavor_name     = var.cpu_flavor
  key_pair        = var.key_pair
  security_groups = [openstack_networking_secgroup_v2.cluster.name]
  network {
    uuid = openstack_networking_network_v2.private.id
  }
  user_data = templatefile("${path.module}/cloud-init/k3s-agent.yaml.tftpl", {
    k3s_version = var.k3s_version
    k3s_token   = random_password.k3s_token.result
    server_url  = "https://${openstack_compute_instance_v2.server.access_ip_v4}:6443"
    node_labels = "taigimed.org/pool=cpu"
    gpu_vendor  = ""
    external_ip = openstack_networking_floatingip_v2.cpu_agent[count.index].address
  })
}

# Every node announces a public address for the WireGuard overlay: the GPU node joins from
# another site and can only open tunnels to nodes it can reach, so a CPU agent without one
# would host pods the GPU node's pods cannot talk to.
resource "openstack_networking_floatingip_v2" "cpu_agent" {
  count    = var.cpu_agent_count
  provider = openstack.kvm
  pool     = var.public_network
}

resource "openstack_networking_floatingip_associate_v2" "cpu_agent" {
  count       = var.cpu_agent_count
  provider    = openstack.kvm
  floating_ip = openstack_networking_floatingip_v2.cpu_agent[count.index].address
  port_id     = openstack_compute_instance_v2.cpu_agent[count.index].network[0].port
}

# The GPU bare-metal node, on the reservation of a Chameleon lease (CHI@TACC or CHI@UC).
resource "openstack_compute_instance_v2" "gpu" {
  count       = var.gpu_reservation_id == "" ? 0 : 1
  provider    = openstack.chi
  name        = "k3s-gpu-${var.project_suffix}"
  image_name  = var.gpu_image
  flavor_name = "baremetal"
  key_pair    = var.key_pair
  network {
    name = var.gpu_network
  }
  scheduler_hints {
    additional_properties = {
      reservation = var.gpu_reservation_id
    }
  }
  user_data = templatefile("${path.module}/cloud-init/k3s-agent.yaml.tftpl", {
    k3s_version = var.k3s_version
    k3s_token   = random_password.k3s_token.result
    server_url  = "https://${openstack_networking_floatingip_v2.server.address}:6443"
    node_labels = "taigimed.org/pool=gpu,${var.gpu_vendor}.com/gpu.present=true"
    gpu_vendor  = var.gpu_vendor
    external_ip = openstack_networking_floatingip_v2.gpu[0].address
  })
}

resource "openstack_networking_floatingip_v2" "gpu" {
  count    = var.gpu_reservation_id == "" ? 0 : 1
  provider = openstack.chi
  pool     = var.public_network
}

resource "openstack_networking_floatingip_associate_v2" "gpu" {
  count       = var.gpu_reservation_id == "" ? 0 : 1
  provider    = openstack.chi
  floating_ip = openstack_networking_floatingip_v2.gpu[0].address
  port_id     = openstack_compute_instance_v2.gpu[0].network[0].port
}
