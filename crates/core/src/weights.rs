//! Reading named tensors out of safetensors bytes.
//!
//! Loading takes bytes, not paths, so the browser (which fetches them) and native code (which
//! reads a file) share it. Every tensor is checked for presence, type and shape before it reaches
//! a model, and keys nobody asked for are reported, so a file from another model is refused
//! instead of half-loaded.

use std::collections::{BTreeMap, BTreeSet};

use burn::prelude::*;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model_file::SCALE_SUFFIX;

/// The tensors of one safetensors file, handed out by name and shape-checked.
#[derive(Debug)]
pub struct WeightSource<'a> {
    tensors: SafeTensors<'a>,
    taken: BTreeSet<String>,
}

impl<'a> WeightSource<'a> {
    /// Parses the header of a safetensors file and checks that every tensor's data is present.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        match SafeTensors::deserialize(bytes) {
            Ok(tensors) => Ok(Self {
                tensors,
                taken: BTreeSet::new(),
            }),
            Err(err) => Err(diagnose(bytes).unwrap_or(Error::WeightsFormat {
                reason: err.to_string(),
            })),
        }
    }

    /// Whether the file holds a tensor of this name.
    pub fn contains(&self, key: &str) -> bool {
        self.tensors.tensor(key).is_ok()
    }

    /// The shape of a tensor, if the file has one of this name.
    pub fn shape(&self, key: &str) -> Option<Vec<usize>> {
        self.tensors
            .tensor(key)
            .ok()
            .map(|view| view.shape().to_vec())
    }

    /// The parsed file, for readers that walk every tensor.
    pub(crate) fn tensors(&self) -> &SafeTensors<'a> {
        &self.tensors
    }

    /// Takes a tensor as float32 values, checking that it has the expected shape.
    ///
    /// Float32 is read as it is and float16 is widened. Int8 is multiplied by the per-row
    /// scales stored beside it under the same name plus [`SCALE_SUFFIX`], which this takes too.
    pub fn take_f32(&mut self, key: &str, expected: &[usize]) -> Result<Vec<f32>> {
        let view = self.view(key, expected)?;
        let values = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::I8 => {
                let rows = expected.first().copied().unwrap_or(1);
                let scale_key = format!("{key}{SCALE_SUFFIX}");
                let scales = self.take_f32(&scale_key, &[rows])?;
                let cols = view.data().len() / rows.max(1);
                view.data()
                    .iter()
                    .enumerate()
                    .map(|(i, b)| f32::from(i8::from_le_bytes([*b])) * scales[i / cols.max(1)])
                    .collect()
            }
            other => {
                return Err(Error::Dtype {
                    key: key.to_owned(),
                    expected: "F32, F16, or I8 with row scales".to_owned(),
                    actual: format!("{other:?}"),
                });
            }
        };
        self.taken.insert(key.to_owned());
        Ok(values)
    }

    /// Takes a float64 tensor exactly as stored, checking its type and shape: for numbers that
    /// must survive a model file to the last bit, such as a fitted standardiser.
    pub fn take_f64(&mut self, key: &str, expected: &[usize]) -> Result<Vec<f64>> {
        let data = self.take_raw(key, Dtype::F64, expected)?;
        Ok(data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect())
    }

    /// Takes an unsigned 8-bit tensor, checking its type and shape.
    pub fn take_u8(&mut self, key: &str, expected: &[usize]) -> Result<Vec<u8>> {
        Ok(self.take_raw(key, Dtype::U8, expected)?.to_vec())
    }

    /// The stored tensor `key`, checked to have the expected shape.
    fn view(&self, key: &str, expected: &[usize]) -> Result<TensorView<'a>> {
        let view = self.tensors.tensor(key).map_err(|_| Error::MissingKey {
            key: key.to_owned(),
        })?;
        if view.shape() != expected {
            return Err(Error::Shape {
                key: key.to_owned(),
                expected: expected.to_vec(),
                actual: view.shape().to_vec(),
            });
        }
        Ok(view)
    }

    fn take_raw(&mut self, key: &str, dtype: Dtype, expected: &[usize]) -> Result<&'a [u8]> {
        let view = self.view(key, expected)?;
        if view.dtype() != dtype {
            return Err(Error::Dtype {
                key: key.to_owned(),
                expected: format!("{dtype:?}"),
                actual: format!("{:?}", view.dtype()),
            });
        }
        self.taken.insert(key.to_owned());
        Ok(view.data())
    }

    /// Takes a float32 tensor of rank `D` and places it on `device`.
    pub fn tensor<const D: usize>(
        &mut self,
        key: &str,
        shape: [usize; D],
        device: &Device,
    ) -> Result<Tensor<D>> {
        let values = self.take_f32(key, &shape)?;
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// Takes a float32 matrix stored as `[rows, cols]` and places its transpose, `[cols, rows]`,
    /// on `device`.
    ///
    /// The transpose happens on the host so that the tensor is a leaf: on an autodiff device a
    /// parameter cannot be the result of an operation.
    pub fn transposed(
        &mut self,
        key: &str,
        [rows, cols]: [usize; 2],
        device: &Device,
    ) -> Result<Tensor<2>> {
        let values = self.take_f32(key, &[rows, cols])?;
        let mut transposed = vec![0.0; values.len()];
        for (r, row) in values.chunks_exact(cols).enumerate() {
            for (c, v) in row.iter().enumerate() {
                transposed[c * rows + r] = *v;
            }
        }
        Ok(Tensor::from_data(
            TensorData::new(transposed, [cols, rows]),
            device,
        ))
    }

    /// Marks a tensor as known but unused, if the file has it.
    pub fn skip(&mut self, key: &str) {
        if self.contains(key) {
            self.taken.insert(key.to_owned());
        }
    }

    /// Fails on the first tensor that nothing took or skipped.
    pub fn finish(self) -> Result<()> {
        let mut names = self.tensors.names();
        names.sort_unstable();
        match names.into_iter().find(|name| !self.taken.contains(*name)) {
            Some(key) => Err(Error::UnexpectedKey {
                key: key.to_owned(),
            }),
            None => Ok(()),
        }
    }
}

#[derive(Deserialize)]
struct HeaderEntry {
    data_offsets: (usize, usize),
}

/// Names the first tensor cut off when the header is intact but the data is not.
fn diagnose(bytes: &[u8]) -> Option<Error> {
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let len = usize::try_from(len).ok()?;
    let header = bytes.get(8..8usize.checked_add(len)?)?;
    let mut entries: BTreeMap<String, serde_json::Value> = serde_json::from_slice(header).ok()?;
    entries.remove("__metadata__");
    let available = bytes.len() - 8 - len;
    let mut cut: Vec<(String, usize)> = entries
        .into_iter()
        .filter_map(|(key, value)| {
            let entry: HeaderEntry = serde_json::from_value(value).ok()?;
            (entry.data_offsets.1 > available).then_some((key, entry.data_offsets.1))
        })
        .collect();
    cut.sort_by_key(|(_, end)| *end);
    let (key, needed) = cut.into_iter().next()?;
    Some(Error::Truncated {
        key,
        needed,
        available,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use safetensors::tensor::TensorView;

    use super::*;

    fn file(entries: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
        let views: HashMap<String, TensorView<'_>> = entries
            .iter()
            .map(|(k, d, s, b)| {
                let view = TensorView::new(*d, s.clone(), b).expect("consistent test tensor");
                ((*k).to_owned(), view)
            })
            .collect();
        safetensors::serialize(views, None).expect("serialisable test tensors")
    }

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn hands_out_values_in_file_order() -> Result<()> {
        let bytes = file(&[(
            "w",
            Dtype::F32,
            vec![2, 2],
            f32_bytes(&[1.0, 2.0, 3.0, 4.5]),
        )]);
        let mut source = WeightSource::new(&bytes)?;
        assert_eq!(source.take_f32("w", &[2, 2])?, vec![1.0, 2.0, 3.0, 4.5]);
        source.finish()
    }

    #[test]
    fn names_a_missing_key() -> Result<()> {
        let bytes = file(&[("w", Dtype::F32, vec![1], f32_bytes(&[1.0]))]);
        let mut source = WeightSource::new(&bytes)?;
        let err = source.take_f32("v", &[1]).unwrap_err();
        assert!(
            matches!(&err, Error::MissingKey { key } if key == "v"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn names_an_unexpected_key() -> Result<()> {
        let bytes = file(&[
            ("a", Dtype::F32, vec![1], f32_bytes(&[1.0])),
            ("b", Dtype::F32, vec![1], f32_bytes(&[1.0])),
        ]);
        let mut source = WeightSource::new(&bytes)?;
        source.take_f32("a", &[1])?;
        let err = source.finish().unwrap_err();
        assert!(
            matches!(&err, Error::UnexpectedKey { key } if key == "b"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn names_a_wrong_shape() -> Result<()> {
        let bytes = file(&[("w", Dtype::F32, vec![2, 2], f32_bytes(&[0.0; 4]))]);
        let mut source = WeightSource::new(&bytes)?;
        let err = source.take_f32("w", &[4, 1]).unwrap_err();
        let Error::Shape {
            key,
            expected,
            actual,
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(
            (key.as_str(), expected.as_slice(), actual.as_slice()),
            ("w", &[4, 1][..], &[2, 2][..])
        );
        Ok(())
    }

    #[test]
    fn names_a_wrong_dtype() -> Result<()> {
        let bytes = file(&[("w", Dtype::F64, vec![2], vec![0; 16])]);
        let mut source = WeightSource::new(&bytes)?;
        let err = source.take_f32("w", &[2]).unwrap_err();
        assert!(matches!(&err, Error::Dtype { key, actual, .. } if key == "w" && actual == "F64"));
        Ok(())
    }

    #[test]
    fn int8_without_its_scales_names_the_missing_tensor() -> Result<()> {
        let bytes = file(&[("w", Dtype::I8, vec![2, 2], vec![1, 2, 3, 4])]);
        let mut source = WeightSource::new(&bytes)?;
        let err = source.take_f32("w", &[2, 2]).unwrap_err();
        assert!(
            matches!(&err, Error::MissingKey { key } if key == "w_scale"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn names_the_tensor_cut_off_by_truncation() {
        let bytes = file(&[
            ("first", Dtype::F32, vec![2], f32_bytes(&[1.0, 2.0])),
            ("second", Dtype::F32, vec![2], f32_bytes(&[3.0, 4.0])),
        ]);
        let cut = &bytes[..bytes.len() - 3];
        let err = WeightSource::new(cut).unwrap_err();
        let Error::Truncated {
            key,
            needed,
            available,
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!((key.as_str(), *needed, *available), ("second", 16, 13));
    }

    #[test]
    fn refuses_bytes_that_are_not_safetensors() {
        for bytes in [&b""[..], b"not a model", &[0xff; 64]] {
            let err = WeightSource::new(bytes).unwrap_err();
            assert!(matches!(err, Error::WeightsFormat { .. }), "{err}");
        }
    }
}
