# KVM@TACC: a private network for the CPU nodes, routed to the public network.
data "openstack_networking_network_v2" "public_kvm" {
  provider = openstack.kvm
  name     = var.public_network
}

resource "openstack_networking_network_v2" "private" {
  provider       = openstack.kvm
  name           = "net-${var.project_suffix}"
  admin_state_up = true
}

resource "openstack_networking_subnet_v2" "private" {
  provider        = openstack.kvm
  name            = "subnet-${var.project_suffix}"
  network_id      = openstack_networking_network_v2.private.id
  cidr            = var.subnet_cidr
  ip_version      = 4
  dns_nameservers = ["8.8.8.8", "8.8.4.4"]
}

resource "openstack_networking_router_v2" "router" {
  provider            = openstack.kvm
  name                = "router-${var.project_suffix}"
  external_network_id = data.openstack_networking_network_v2.public_kvm.id
}

resource "openstack_networking_router_interface_v2" "router" {
  provider  = openstack.kvm
  router_id = openstack_networking_router_v2.router.id
  subnet_id = openstack_networking_subnet_v2.private.id
}

# Only what the cluster needs: SSH and the API server from the admin range, HTTP(S) for users,
# and node-to-node traffic (k3s API, kubelet, WireGuard flannel) inside the cluster.
resource "openstack_networking_secgroup_v2" "cluster" {
  provider    = openstack.kvm
  name        = "sg-${var.project_suffix}"
  description = "TaigiMed k3s cluster"
}

resource "openstack_networking_secgroup_rule_v2" "ssh" {
  provider          = openstack.kvm
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = var.admin_cidr
  security_group_id = openstack_networking_secgroup_v2.cluster.id
}

resource "openstack_networking_secgroup_rule_v2" "kube_api_admin" {
  provider          = openstack.kvm
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 6443
  port_range_max    = 6443
  remote_ip_prefix  = var.admin_cidr
  security_group_id = openstack_networking_secgroup_v2.cluster.id
}

resource "openstack_networking_secgroup_rule_v2" "http" {
  for_each          = toset(["80", "443"])
  provider          = openstack.kvm
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = tonumber(each.value)
  port_range_max    = tonumber(each.value)
  remote_ip_prefix  = "0.0.0.0/0"
  security_group_id = openstack_networking_secgroup_v2.cluster.id
}

resource "openstack_networking_secgroup_rule_v2" "intra_cluster" {
  provider          = openstack.kvm
  direction         = "ingress"
  ethertype         = "IPv4"
  remote_group_id   = openstack_networking_secgroup_v2.cluster.id
  security_group_id = openstack_networking_secgroup_v2.cluster.id
}

# The GPU node joins across sites over its floating IP: the k3s API and WireGuard only.
# No NFS port (2049) is opened to anyone: the nodes mount the work volume from the server's
# flannel-wg address, so NFS travels inside the WireGuard tunnel (udp 51820 above, or the
# intra-cluster rule between KVM nodes), encrypted, and the export admits only cluster_cidr.
resource "openstack_networking_secgroup_rule_v2" "gpu_join" {
  for_each          = var.gpu_reservation_id == "" ? {} : { api = ["tcp", 6443], wireguard = ["udp", 51820], kubelet = ["tcp", 10250] }
  provider          = openstack.kvm
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = each.value[0]
  port_range_min    = each.value[1]
  port_range_max    = each.value[1]
  remote_ip_prefix  = "${openstack_networking_floatingip_v2.gpu[0].address}/32"
  security_group_id = openstack_networking_secgroup_v2.cluster.id
}

# WireGuard (flannel wireguard-native) between the nodes' floating IPs: every node announces
# its floating IP (--node-external-ip), so the tunnels between KVM nodes run between floating
# IPs too, and the intra-cluster rule (private addresses) does not cover them.
locals {
  kvm_node_ips = concat(
    [openstack_networking_floatingip_v2.server.address],
    openstack_networking_floatingip_v2.cpu_agent[*].address,
  )
}

resource "openstack_networking_secgroup_rule_v2" "wireguard_nodes" {
  count             = 1 + var.cpu_agent_count
  provider          = openstack.kvm
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "udp"
  port_range_min    = 51820
  port_range_max    = 51820
  remote_ip_prefix  = "${local.kvm_node_ips[count.index]}/32"
  security_group_id = openstack_networking_secgroup_v2.cluster.id
}
