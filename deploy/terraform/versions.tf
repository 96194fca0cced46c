terraform {
  required_version = ">= 1.5.0"
  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

# Credentials come only from clouds.yaml (downloaded from each Chameleon site's
# "API Access" page) or OS_* environment variables; nothing secret is in this repository.
provider "openstack" {
  alias = "kvm"
  cloud = var.kvm_cloud
}

provider "openstack" {
  alias = "chi"
  cloud = var.chi_cloud
}
