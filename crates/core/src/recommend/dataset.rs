//! Interactions between users and items, interned to dense indices.
//!
//! Users and items arrive as string ids and are given dense `u32` indices in order of first
//! appearance; the id tables are kept so that every index maps back to its id. Each (user,
//! item) pair holds one [`Cell`]:
//!
//! - the **binary flag** is the presence of the cell: a pair with a cell has interacted (1), a
//!   pair without one has not (0);
//! - `weight` is the **sum** of the weights of every event of the pair (two views of weight 1
//!   give weight 2), so a graded relevance or a confidence can be read from it;
//! - `count` is the number of events aggregated;
//! - `last_timestamp` is the latest event time, in seconds (any epoch, as long as one is used
//!   throughout).
//!
//! Users and items can also be registered without any interaction ([`Interactions::add_user`],
//! [`Interactions::add_item`]): a shopper the app knows but who has done nothing yet, an item of
//! the catalogue nobody has touched.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};

/// The aggregated events of one (user, item) pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cell {
    /// The sum of the events' weights.
    pub weight: f64,
    /// How many events were aggregated.
    pub count: u32,
    /// The latest event time, in seconds.
    pub last_timestamp: i64,
}

/// Users, items and their aggregated interactions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactions {
    user_ids: Vec<String>,
    user_index: BTreeMap<String, u32>,
    item_ids: Vec<String>,
    item_index: BTreeMap<String, u32>,
    /// One map per user, from item index to cell, sorted by item index.
    rows: Vec<BTreeMap<u32, Cell>>,
    n_pairs: usize,
}

fn check_id(kind: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::Input(format!(
            "a {kind} id is empty; give every {kind} a non-empty id"
        )));
    }
    Ok(())
}

fn intern(ids: &mut Vec<String>, index: &mut BTreeMap<String, u32>, id: &str) -> Result<u32> {
    if let Some(&i) = index.get(id) {
        return Ok(i);
    }
    let i = u32::try_from(ids.len()).map_err(|_| {
        Error::Input(format!(
            "more than {} distinct ids; split the data set",
            u32::MAX
        ))
    })?;
    ids.push(id.to_owned());
    index.insert(id.to_owned(), i);
    Ok(i)
}

impl Interactions {
    /// An empty set: no user, no item.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interactions built from `(user, item, weight, timestamp)` events; events of the same
    /// pair are aggregated (weights summed, latest time kept).
    ///
    /// # Errors
    ///
    /// As [`Interactions::record`], naming the position of the bad event.
    pub fn from_records<U: AsRef<str>, I: AsRef<str>>(
        records: &[(U, I, f64, i64)],
    ) -> Result<Self> {
        let mut out = Self::new();
        for (n, (user, item, weight, timestamp)) in records.iter().enumerate() {
            out.record(user.as_ref(), item.as_ref(), *weight, *timestamp)
                .map_err(|e| match e {
                    Error::Input(m) => Error::Input(format!("event {n}: {m}")),
                    other => other,
                })?;
        }
        Ok(out)
    }

    /// An empty set with the same user and item tables as `other`: every index means the same
    /// id in both, and ids added later get the next free indices.
    pub fn with_tables_of(other: &Self) -> Self {
        Self {
            user_ids: other.user_ids.clone(),
            user_index: other.user_index.clone(),
            item_ids: other.item_ids.clone(),
            item_index: other.item_index.clone(),
            rows: vec![BTreeMap::new(); other.user_ids.len()],
            n_pairs: 0,
        }
    }

    /// Registers a user (no interaction needed) and returns its index; an existing user keeps
    /// its index.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for an empty id.
    pub fn add_user(&mut self, user: &str) -> Result<u32> {
        check_id("user", user)?;
        let u = intern(&mut self.user_ids, &mut self.user_index, user)?;
        if self.rows.len() < self.user_ids.len() {
            self.rows.push(BTreeMap::new());
        }
        Ok(u)
    }

    /// Registers an item of the catalogue (no interaction needed) and returns its index.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for an empty id.
    pub fn add_item(&mut self, item: &str) -> Result<u32> {
        check_id("item", item)?;
        intern(&mut self.item_ids, &mut self.item_index, item)
    }

    /// Adds one event: registers the user and item if new and aggregates the event into the
    /// pair's cell.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for an empty id or a weight that is negative or not finite.
    pub fn record(&mut self, user: &str, item: &str, weight: f64, timestamp: i64) -> Result<()> {
        if !weight.is_finite() || weight < 0.0 {
            return Err(Error::Input(format!(
                "weight {weight} of (user {user:?}, item {item:?}) is not a finite number at \
                 least 0; give each event a weight such as 1 per view or the rating"
            )));
        }
        let u = self.add_user(user)?;
        let i = self.add_item(item)?;
        self.merge_cell(
            u,
            i,
            Cell {
                weight,
                count: 1,
                last_timestamp: timestamp,
            },
        );
        Ok(())
    }

    /// Merges an aggregated cell into the pair (`u`, `i`), both already registered.
    pub(crate) fn merge_cell(&mut self, u: u32, i: u32, cell: Cell) {
        let Some(row) = self.rows.get_mut(u as usize) else {
            return;
        };
        match row.get_mut(&i) {
            Some(c) => {
                c.weight += cell.weight;
                c.count = c.count.saturating_add(cell.count);
                c.last_timestamp = c.last_timestamp.max(cell.last_timestamp);
            }
            None => {
                row.insert(i, cell);
                self.n_pairs += 1;
            }
        }
    }

    /// The number of users in the table, with or without interactions.
    pub fn n_users(&self) -> usize {
        self.user_ids.len()
    }

    /// The number of items in the table, with or without interactions.
    pub fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    /// The number of (user, item) pairs with a cell: the ones of the binary matrix.
    pub fn n_pairs(&self) -> usize {
        self.n_pairs
    }

    /// The user ids, by index.
    pub fn user_ids(&self) -> &[String] {
        &self.user_ids
    }

    /// The item ids, by index.
    pub fn item_ids(&self) -> &[String] {
        &self.item_ids
    }

    /// The id of user `u`, if in the table.
    pub fn user_id(&self, u: u32) -> Option<&str> {
        self.user_ids.get(u as usize).map(String::as_str)
    }

    /// The id of item `i`, if in the table.
    pub fn item_id(&self, i: u32) -> Option<&str> {
        self.item_ids.get(i as usize).map(String::as_str)
    }

    /// The index of a user id, if in the table.
    pub fn user_index(&self, user: &str) -> Option<u32> {
        self.user_index.get(user).copied()
    }

    /// The index of an item id, if in the table.
    pub fn item_index(&self, item: &str) -> Option<u32> {
        self.item_index.get(item).copied()
    }

    /// The cell of a pair, if the user interacted with the item.
    pub fn get(&self, u: u32, i: u32) -> Option<&Cell> {
        self.rows.get(u as usize).and_then(|row| row.get(&i))
    }

    /// The items of user `u` with their cells, by item index; empty for an unknown index.
    pub fn items_of(&self, u: u32) -> impl Iterator<Item = (u32, &Cell)> + '_ {
        self.rows
            .get(u as usize)
            .into_iter()
            .flat_map(|row| row.iter().map(|(&i, c)| (i, c)))
    }

    /// The number of items user `u` interacted with.
    pub fn n_items_of(&self, u: u32) -> usize {
        self.rows.get(u as usize).map_or(0, BTreeMap::len)
    }

    /// Every pair with its cell, by user then item index.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, u32, &Cell)> + '_ {
        self.rows
            .iter()
            .enumerate()
            .flat_map(|(u, row)| row.iter().map(move |(&i, c)| (u as u32, i, c)))
    }

    /// The pairs as `(user index, item index)`, for [`crate::rec_metrics::check_no_overlap`].
    pub fn index_pairs(&self) -> Vec<(u64, u64)> {
        self.pairs()
            .map(|(u, i, _)| (u64::from(u), u64::from(i)))
            .collect()
    }

    /// The number of distinct users who interacted with each item, by item index (binary
    /// popularity: repeated events of a user count once).
    pub fn item_user_counts(&self) -> Vec<u64> {
        let mut counts = vec![0u64; self.item_ids.len()];
        for (_, i, _) in self.pairs() {
            if let Some(c) = counts.get_mut(i as usize) {
                *c += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rec_03_duplicates_aggregate() {
        let data = Interactions::from_records(&[
            ("u1", "i1", 1.0, 100),
            ("u1", "i1", 1.0, 250),
            ("u1", "i2", 1.0, 50),
            ("u2", "i1", 3.0, 10),
        ])
        .unwrap();
        // Two views of (u1, i1): one pair (binary 1), weight 1 + 1 = 2, latest time 250.
        let (u1, i1) = (
            data.user_index("u1").unwrap(),
            data.item_index("i1").unwrap(),
        );
        let cell = data.get(u1, i1).unwrap();
        assert_eq!(cell.weight, 2.0);
        assert_eq!(cell.count, 2);
        assert_eq!(cell.last_timestamp, 250);
        assert_eq!(data.n_pairs(), 3);
        assert_eq!(data.n_users(), 2);
        assert_eq!(data.n_items(), 2);
        // Binary popularity: i1 has users u1 and u2 → 2, whatever the weights.
        assert_eq!(data.item_user_counts(), vec![2, 1]);
        assert_eq!(data.user_ids(), ["u1", "u2"]);
        assert_eq!(data.item_id(1), Some("i2"));
        assert_eq!(data.user_id(9), None);
        let items: Vec<u32> = data.items_of(u1).map(|(i, _)| i).collect();
        assert_eq!(items, vec![0, 1]);
        assert_eq!(data.items_of(99).count(), 0);
    }

    #[test]
    fn known_users_and_items_without_events() {
        let mut data = Interactions::new();
        assert_eq!(data.add_user("u0").unwrap(), 0);
        assert_eq!(data.add_item("i9").unwrap(), 0);
        data.record("u1", "i1", 1.0, 5).unwrap();
        assert_eq!(data.add_user("u0").unwrap(), 0);
        assert_eq!(data.n_users(), 2);
        assert_eq!(data.n_items_of(0), 0);
        assert_eq!(data.item_user_counts(), vec![0, 1]);
        let copy = Interactions::with_tables_of(&data);
        assert_eq!(copy.n_pairs(), 0);
        assert_eq!(copy.user_index("u1"), Some(1));
        assert_eq!(copy.item_index("i1"), Some(1));
    }

    #[test]
    fn bad_events_are_refused_with_their_position() {
        let err = Interactions::from_records(&[("u1", "i1", 1.0, 0), ("u1", "i2", -1.0, 0)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("event 1") && err.contains("-1"), "{err}");
        let err = Interactions::from_records(&[("u1", " ", 1.0, 0)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("item id is empty"), "{err}");
        assert!(Interactions::from_records(&[("u", "i", f64::NAN, 0)]).is_err());
    }
}
