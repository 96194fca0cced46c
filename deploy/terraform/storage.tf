# Persistent data on the k3s server: prepared datasets, MLflow artifacts, PostgreSQL
# (k3s's local-path provisioner is pointed at this volume by cloud-init).
resource "openstack_blockstorage_volume_v3" "data" {
  provider    = openstack.kvm
  name        = "data-${var.project_suffix}"
  size        = var.data_volume_gb
  description = "TaigiMed datasets, MLflow artifacts and PostgreSQL"
}

# Attached to the server at boot (block_device in compute.tf), before cloud-init formats it.

# Object store (Swift on the bare-metal site) for raw data drops and model exports.
resource "openstack_objectstorage_container_v1" "artifacts" {
  provider = openstack.chi
  name     = "artifacts-${var.project_suffix}"
}
