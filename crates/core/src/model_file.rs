//! Vitrine's model file: one checked format for every shipped model, natively and in the browser.
//!
//! A model file is a safetensors file whose metadata names the format, its version and the kind
//! of model, and carries a SHA-256 checksum over everything else: every other metadata entry and
//! every tensor's name, type, shape and bytes. [`open`] refuses a file whose checksum does not
//! match, so a truncated download, a flipped byte or a hand-edited label list is caught before
//! a model is built from it.
//!
//! Tensors are stored as float32, float16, or int8 with a float32 scale per row (symmetric:
//! `value = q * scale`, `q` in -127..=127). [`crate::WeightSource`] turns all three back into
//! float32, so models load from any of them through the same code.

use std::collections::{BTreeMap, HashMap};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::weights::WeightSource;

/// The value of the `format` metadata entry of every Vitrine model file.
pub const FORMAT: &str = "vitrine";

/// The version of the file layout this crate writes and reads.
pub const FORMAT_VERSION: &str = "1";

/// Suffix of the tensor holding the per-row scales of an int8 tensor.
pub const SCALE_SUFFIX: &str = "_scale";

/// How one tensor is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// 4 bytes a value, exact.
    F32,
    /// 2 bytes a value, IEEE half precision.
    F16,
    /// 1 byte a value, with one float32 scale per row (per output channel of a linear layer).
    Int8,
}

/// One tensor on its way into a model file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTensor {
    /// Its name.
    pub name: String,
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its little-endian bytes.
    pub bytes: Vec<u8>,
}

/// Refuses values that do not fill `shape` or that are not finite, naming the tensor.
fn check_values(
    name: &str,
    shape: &[usize],
    count: usize,
    mut values: impl Iterator<Item = f64>,
) -> Result<()> {
    if shape.iter().product::<usize>() != count {
        return Err(Error::Input(format!(
            "tensor `{name}` has {count} values for shape {shape:?}"
        )));
    }
    if let Some(bad) = values.find(|v| !v.is_finite()) {
        return Err(Error::Input(format!(
            "tensor `{name}` holds {bad}; a model with non-finite values cannot be stored"
        )));
    }
    Ok(())
}

impl StoredTensor {
    /// Stores float32 values as `storage` says; int8 adds a second tensor of row scales.
    pub fn encode(
        name: &str,
        shape: &[usize],
        values: &[f32],
        storage: Storage,
    ) -> Result<Vec<Self>> {
        check_values(
            name,
            shape,
            values.len(),
            values.iter().map(|v| f64::from(*v)),
        )?;
        let plain = |dtype, bytes| Self {
            name: name.to_owned(),
            dtype,
            shape: shape.to_vec(),
            bytes,
        };
        Ok(match storage {
            Storage::F32 => vec![plain(Dtype::F32, le_bytes(values))],
            Storage::F16 => {
                let bytes = values
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect();
                vec![plain(Dtype::F16, bytes)]
            }
            Storage::Int8 => {
                let cols = match shape {
                    [_, cols] => *cols,
                    _ => {
                        return Err(Error::Input(format!(
                            "tensor `{name}` of shape {shape:?}: int8 storage needs a matrix"
                        )));
                    }
                };
                let (q, scales) = quantize_rows(values, cols);
                let q = q.iter().map(|v| v.to_le_bytes()[0]).collect();
                vec![
                    plain(Dtype::I8, q),
                    Self {
                        name: format!("{name}{SCALE_SUFFIX}"),
                        dtype: Dtype::F32,
                        shape: vec![shape[0]],
                        bytes: le_bytes(&scales),
                    },
                ]
            }
        })
    }
}

impl StoredTensor {
    /// Stores float64 values exactly, for numbers a model must read back to the last bit.
    pub fn exact_f64(name: &str, shape: &[usize], values: &[f64]) -> Result<Self> {
        check_values(name, shape, values.len(), values.iter().copied())?;
        Ok(Self {
            name: name.to_owned(),
            dtype: Dtype::F64,
            shape: shape.to_vec(),
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        })
    }

    /// Stores small whole numbers, such as labels, a byte each.
    pub fn bytes_u8(name: &str, shape: &[usize], values: &[u8]) -> Result<Self> {
        if shape.iter().product::<usize>() != values.len() {
            return Err(Error::Input(format!(
                "tensor `{name}` has {} values for shape {shape:?}",
                values.len()
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            dtype: Dtype::U8,
            shape: shape.to_vec(),
            bytes: values.to_vec(),
        })
    }
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Symmetric int8 quantization of each row of a row-major matrix of `cols` columns.
///
/// Each value becomes `round(v / scale)`, clamped to -127..=127, with one scale per row. The
/// scale is the one of [`CLIP_STEPS`] candidates, from `max |v| / 127` down to
/// [`MIN_CLIP`] of it, that gives the least squared error over the row: clipping a few
/// outlying values buys finer steps for all the others. A row of zeros has scale 0 and
/// quantizes to zeros.
pub fn quantize_rows(values: &[f32], cols: usize) -> (Vec<i8>, Vec<f32>) {
    let mut q = Vec::with_capacity(values.len());
    let mut scales = Vec::with_capacity(values.len() / cols.max(1));
    for row in values.chunks(cols.max(1)) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        if max == 0.0 {
            scales.push(0.0);
            q.extend(std::iter::repeat_n(0, row.len()));
            continue;
        }
        let error = |scale: f32| -> f64 {
            row.iter()
                .map(|v| {
                    let back = quantize(*v, scale) as f32 * scale;
                    f64::from(back - v).powi(2)
                })
                .sum()
        };
        let scale = (0..CLIP_STEPS)
            .map(|i| {
                let clip = 1.0 - (1.0 - MIN_CLIP) * i as f32 / (CLIP_STEPS - 1) as f32;
                max * clip / 127.0
            })
            .map(|scale| (scale, error(scale)))
            .fold(
                (0.0, f64::INFINITY),
                |best, c| if c.1 < best.1 { c } else { best },
            )
            .0;
        scales.push(scale);
        q.extend(row.iter().map(|v| quantize(*v, scale)));
    }
    (q, scales)
}

/// Candidate clipping ratios tried per row by [`quantize_rows`].
const CLIP_STEPS: usize = 21;
/// The smallest clipping ratio tried: 80% of the row's largest magnitude.
const MIN_CLIP: f32 = 0.8;

fn quantize(v: f32, scale: f32) -> i8 {
    (v / scale).round().clamp(-127.0, 127.0) as i8
}

/// Writes tensors and metadata as a model file of `kind`, adding the format entries and the
/// checksum.
pub fn seal(
    kind: &str,
    tensors: &[StoredTensor],
    metadata: BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let mut metadata = metadata;
    metadata.insert("format".to_owned(), FORMAT.to_owned());
    metadata.insert("format_version".to_owned(), FORMAT_VERSION.to_owned());
    metadata.insert("kind".to_owned(), kind.to_owned());
    metadata.remove("checksum");

    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                .map(|view| (t.name.clone(), view))
                .map_err(|e| Error::Input(format!("tensor `{}`: {e}", t.name)))
        })
        .collect::<Result<Vec<_>>>()?;
    let digest = checksum(
        &metadata,
        views.iter().map(|(name, view)| {
            (
                name.as_str(),
                view.dtype(),
                view.shape().to_vec(),
                view.data(),
            )
        }),
    );
    metadata.insert("checksum".to_owned(), digest);
    let metadata: HashMap<String, String> = metadata.into_iter().collect();
    safetensors::serialize(views, Some(metadata)).map_err(|e| Error::WeightsFormat {
        reason: e.to_string(),
    })
}

/// A model file whose format, kind and checksum have been verified.
#[derive(Debug)]
pub struct ModelFile<'a> {
    /// The tensors, ready to be taken by a model's loader.
    pub weights: WeightSource<'a>,
    /// The metadata entries, the format entries and the checksum included.
    pub metadata: BTreeMap<String, String>,
}

impl ModelFile<'_> {
    /// A metadata entry the model needs, or an error naming it.
    pub fn entry(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::ModelFile(format!("its metadata lacks `{key}`")))
    }
}

/// Reads a model file of `kind`, refusing it with the reason when it is not a Vitrine model
/// file, has another version or kind, or fails its checksum.
pub fn open<'a>(bytes: &'a [u8], kind: &str) -> Result<ModelFile<'a>> {
    let weights = WeightSource::new(bytes)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| Error::WeightsFormat {
        reason: e.to_string(),
    })?;
    let metadata: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();

    match metadata.get("format").map(String::as_str) {
        Some(FORMAT) => {}
        _ => {
            return Err(Error::ModelFile(format!(
                "it is not a Vitrine model file (no `format: {FORMAT}` in its metadata); \
                 write it with `vitrine export`"
            )));
        }
    }
    match metadata.get("format_version").map(String::as_str) {
        Some(FORMAT_VERSION) => {}
        other => {
            return Err(Error::ModelFile(format!(
                "it has format version {}, this build reads version {FORMAT_VERSION}; \
                 export it again with this version of `vitrine`",
                other.unwrap_or("(none)")
            )));
        }
    }
    match metadata.get("kind").map(String::as_str) {
        Some(found) if found == kind => {}
        other => {
            return Err(Error::ModelFile(format!(
                "it holds a {} model, not a {kind}",
                other.unwrap_or("(unnamed)")
            )));
        }
    }

    let expected = metadata
        .get("checksum")
        .cloned()
        .ok_or_else(|| Error::ModelFile("its metadata lacks `checksum`".to_owned()))?;
    let mut covered = metadata.clone();
    covered.remove("checksum");
    let tensors = weights.tensors();
    let actual = checksum(
        &covered,
        tensors
            .tensors()
            .into_iter()
            .map(|(name, view)| (name, view.dtype(), view.shape().to_vec(), view.data())),
    );
    if actual != expected {
        return Err(Error::Checksum { expected, actual });
    }
    Ok(ModelFile { weights, metadata })
}

/// SHA-256 over metadata and tensors in a canonical order, as `sha256:<hex>`.
fn checksum<'t, N: AsRef<str>>(
    metadata: &BTreeMap<String, String>,
    tensors: impl Iterator<Item = (N, Dtype, Vec<usize>, &'t [u8])>,
) -> String {
    let mut hasher = Sha256::new();
    for (key, value) in metadata {
        hash_field(&mut hasher, key.as_bytes());
        hash_field(&mut hasher, value.as_bytes());
    }
    let mut tensors: Vec<_> = tensors.collect();
    tensors.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    for (name, dtype, shape, data) in tensors {
        hash_field(&mut hasher, name.as_ref().as_bytes());
        hash_field(&mut hasher, format!("{dtype:?}").as_bytes());
        hasher.update((shape.len() as u64).to_le_bytes());
        for dim in shape {
            hasher.update((dim as u64).to_le_bytes());
        }
        hash_field(&mut hasher, data);
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

/// Hashes a length-prefixed field, so that no two different field lists hash the same bytes.
fn hash_field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// The SHA-256 of `bytes` in lowercase hex, as the metadata records other files.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Result<Vec<u8>> {
        let mut tensors = StoredTensor::encode("w", &[2, 3], &[1.0, -2.0, 0.5, 0.0, 0.0, 0.0], {
            Storage::Int8
        })?;
        tensors.extend(StoredTensor::encode(
            "b",
            &[2],
            &[0.25, -1.0],
            Storage::F32,
        )?);
        tensors.extend(StoredTensor::encode(
            "e",
            &[1, 2],
            &[1.5, -0.1],
            Storage::F16,
        )?);
        let metadata = BTreeMap::from([("labels".to_owned(), "[\"O\"]".to_owned())]);
        seal("test", &tensors, metadata)
    }

    #[test]
    fn quantizes_each_row_by_its_largest_magnitude() {
        // Row 0: max 2 -> scale 2/127; 1.0 -> 63.5 -> 64 (round half away from zero).
        let (q, scales) = quantize_rows(&[1.0, -2.0, 0.5, 0.0, 0.0, 0.0], 3);
        assert_eq!(q, vec![64, -127, 32, 0, 0, 0]);
        assert_eq!(scales, vec![2.0 / 127.0, 0.0]);
    }

    #[test]
    fn the_chosen_scale_never_does_worse_than_the_largest_magnitude() {
        // A heavy-tailed row, as trained weights are: mostly small values, a few large.
        let row: Vec<f32> = (0..384)
            .map(|i| {
                let x = ((i * 7919) % 383) as f32 / 383.0 - 0.5;
                x * x * x * 8.0
            })
            .collect();
        let (q, scales) = quantize_rows(&row, row.len());
        let squared = |q: &[i8], scale: f32| -> f64 {
            q.iter()
                .zip(&row)
                .map(|(q, v)| f64::from(f32::from(*q) * scale - v).powi(2))
                .sum()
        };
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let plain: Vec<i8> = row.iter().map(|v| quantize(*v, max / 127.0)).collect();
        assert!(squared(&q, scales[0]) <= squared(&plain, max / 127.0));
        assert!(scales[0] <= max / 127.0 && scales[0] >= MIN_CLIP * max / 127.0);
    }

    #[test]
    fn a_sealed_file_opens_and_dequantizes() -> Result<()> {
        let bytes = sample()?;
        let mut file = open(&bytes, "test")?;
        assert_eq!(file.entry("labels")?, "[\"O\"]");
        assert_eq!(file.entry("kind")?, "test");

        let w = file.weights.take_f32("w", &[2, 3])?;
        let s = 2.0f32 / 127.0;
        assert_eq!(w, vec![64.0 * s, -127.0 * s, 32.0 * s, 0.0, 0.0, 0.0]);
        assert_eq!(file.weights.take_f32("b", &[2])?, vec![0.25, -1.0]);
        // 1.5 is exact in f16; -0.1 is the nearest f16, -0.099975586.
        assert_eq!(
            file.weights.take_f32("e", &[1, 2])?,
            vec![1.5, -0.099975586]
        );
        file.weights.finish()
    }

    #[test]
    fn any_changed_byte_fails_the_checksum() -> Result<()> {
        let bytes = sample()?;
        let header = 8 + u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        for at in [header, header + 7, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x01;
            let err = open(&bad, "test").unwrap_err();
            assert!(matches!(err, Error::Checksum { .. }), "byte {at}: {err}");
        }
        Ok(())
    }

    #[test]
    fn a_changed_metadata_entry_fails_the_checksum() -> Result<()> {
        let bytes = sample()?;
        let needle = br#"[\"O\"]"#;
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("the label list is in the header");
        let mut edited = bytes.clone();
        edited[at + 3] = b'X';
        let err = open(&edited, "test").unwrap_err();
        assert!(matches!(err, Error::Checksum { .. }), "{err}");
        Ok(())
    }

    #[test]
    fn refuses_other_kinds_and_plain_safetensors() -> Result<()> {
        let bytes = sample()?;
        let err = open(&bytes, "tagger").unwrap_err();
        assert!(
            err.to_string().contains("holds a test model, not a tagger"),
            "{err}"
        );

        let views = vec![(
            "w".to_owned(),
            TensorView::new(Dtype::F32, vec![1], &[0u8; 4]).expect("valid view"),
        )];
        let plain = safetensors::serialize(views, None).expect("serialisable");
        let err = open(&plain, "test").unwrap_err();
        assert!(
            err.to_string().contains("not a Vitrine model file"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn refuses_non_finite_weights() {
        let err = StoredTensor::encode("w", &[2], &[1.0, f32::NAN], Storage::F32).unwrap_err();
        assert!(err.to_string().contains("non-finite"), "{err}");
    }
}
