# Persistent data on the k3s server: prepared datasets, MLflow artifacts, PostgreSQL
# (k3s's local-path provisioner is pointed at this volume by cloud-init).
resource "openstack_blockstorage_volume_v3" "data" {
  provider    = openstack.kvm
  name        = "data-${var.project_suffix}"
  size        = var.data_volume_gb
  description = "TaigiMed datasets, MLflow artifacts and PostgreSQL"
}

resource "openstack_compute_volume_attach_v2" "data" {
  provider    = openstack.kvm
  instance_id = openstack_compute_instance_v2.server.id
  volume_id   = openstack_blockstorage_volume_v3.data.id
}

# Object store (Swift on the bare-metal site) for raw data drops and model exports.
resource "openstack_objectstorage_container_v1" "artifacts" {
  provider = openstack.chi
  name     = "artifacts-${var.project_suffix}"
}
