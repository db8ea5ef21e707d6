//! Choosing the compute device, in one place.

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;

use crate::error::{Error, Result};

/// The kinds of compute device Vitrine can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKind {
    /// burn's pure-Rust CPU backend (`flex`), available everywhere.
    #[default]
    Cpu,
    /// A GPU through wgpu: Vulkan, Metal, DX12 or GL natively, WebGPU in a browser.
    Wgpu,
    /// An NVIDIA GPU through CUDA.
    Cuda,
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
        })
    }
}

impl FromStr for DeviceKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "wgpu" | "gpu" | "webgpu" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(Error::Device(format!(
                "unknown device `{other}`; use cpu, wgpu or cuda"
            ))),
        }
    }
}

/// Opens a device of the given kind, or says which build feature it needs.
///
/// In a browser use [`webgpu_device`] instead: WebGPU can only be initialised asynchronously.
pub fn open_device(kind: DeviceKind) -> Result<Device> {
    let device = match kind {
        DeviceKind::Cpu => cpu_device()?,
        DeviceKind::Wgpu => wgpu_device()?,
        DeviceKind::Cuda => cuda_device()?,
    };
    log::debug!("compute device: {kind}");
    Ok(device)
}

fn cpu_device() -> Result<Device> {
    #[cfg(feature = "flex")]
    return Ok(Device::flex());
    #[cfg(not(feature = "flex"))]
    Err(Error::Device(
        "this build has no CPU backend; enable the `flex` feature".to_owned(),
    ))
}

fn wgpu_device() -> Result<Device> {
    #[cfg(all(feature = "wgpu", not(target_family = "wasm")))]
    return Device::wgpu_options()
        .init()
        .map_err(|e| Error::Device(format!("no usable wgpu adapter: {e}")));
    #[cfg(any(not(feature = "wgpu"), target_family = "wasm"))]
    Err(Error::Device(
        "this build has no native wgpu backend; rebuild with the `wgpu` feature".to_owned(),
    ))
}

fn cuda_device() -> Result<Device> {
    #[cfg(feature = "cuda")]
    return Ok(Device::cuda(0));
    #[cfg(not(feature = "cuda"))]
    Err(Error::Device(
        "this build has no CUDA backend; rebuild with the `cuda` feature".to_owned(),
    ))
}

/// Opens the browser's WebGPU adapter, or explains why there is none.
///
/// Without an adapter (no WebGPU in this browser, or it is switched off) this returns an error
/// rather than panicking, so the caller can fall back to [`DeviceKind::Cpu`].
#[cfg(feature = "webgpu")]
pub async fn webgpu_device() -> Result<Device> {
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| Error::Device(format!("no WebGPU adapter: {e}")))
}
