//! What a peer may receive: a *grant* is a school, whole or some of its classes.
//!
//! A grant of classes X… of school S covers these partitions (see `domain::partition`):
//!
//! - **School(S)**: the school's name and settings, and its erasure markers (only ids), so an
//!   erasure reaches every box that may hold anything of the person.
//! - **Class(X)**: the class, its roster, settings and activities, and all work posted in it,
//!   with versions, edits, reviews and comments: what its teacher and students see there.
//! - **Person(p)** for everyone with a place in X, present or past (a removed place stays as
//!   a tombstone): their account and sign-in secrets, so they can sign in on the receiving
//!   box; their family links; their work that belongs to no class.
//!
//! And nothing else: not class Y, its roster or its work, even the work that X's own students
//! posted in Y; not the accounts of people who were never in X (other teachers, admins,
//! families); not another school. A student who joins X later brings their partition with
//! them at the next sync (its positions start at zero). Someone removed from X keeps their
//! partition in the grant, so changes to their account (and their erasure) still reach the
//! boxes that hold their work in X.
//!
//! The receiver checks every operation against the grant on its own rows, as they stand when
//! the operation is applied; a page brings class partitions before people's, so the roster
//! that admits a person's partition arrives first.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::domain::{ClassId, SchoolId, Scope};
use crate::store::{Queries, ReadTables, StoreError, SyncReads};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub school: SchoolId,
    pub reach: Reach,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "classes", rename_all = "snake_case")]
pub enum Reach {
    WholeSchool,
    Classes(BTreeSet<ClassId>),
}

impl Grant {
    pub fn whole_school(school: SchoolId) -> Grant {
        Grant { school, reach: Reach::WholeSchool }
    }

    pub fn classes(school: SchoolId, classes: impl IntoIterator<Item = ClassId>) -> Grant {
        Grant { school, reach: Reach::Classes(classes.into_iter().collect()) }
    }

    /// The partitions a sender offers under this grant, in the order a page carries them:
    /// the school's, then classes', then people's.
    pub fn partitions(&self, r: &impl ReadTables) -> Result<Vec<Scope>, StoreError> {
        match &self.reach {
            Reach::WholeSchool => {
                let mut all: Vec<Scope> = r.positions(self.school)?.into_iter().map(|(p, _, _)| p).collect();
                all.dedup();
                Ok(all)
            }
            Reach::Classes(classes) => {
                let mut people = BTreeSet::new();
                for class in classes {
                    people.extend(r.people_of_class(*class)?);
                }
                let mut all = vec![Scope::School];
                all.extend(classes.iter().map(|c| Scope::Class(*c)));
                all.extend(people.into_iter().map(Scope::Person));
                Ok(all)
            }
        }
    }

    /// Whether a partition lies within this grant, judged on the rows `r` holds.
    pub fn allows(&self, r: &impl ReadTables, partition: Scope) -> Result<bool, StoreError> {
        Ok(match partition {
            Scope::School => true,
            Scope::Class(class) => {
                let ours = r.class(class)?.is_none_or(|c| c.school == self.school);
                ours && match &self.reach {
                    Reach::WholeSchool => true,
                    Reach::Classes(classes) => classes.contains(&class),
                }
            }
            Scope::Person(person) => {
                let ours = r.user(person)?.is_none_or(|u| u.school == self.school);
                ours && match &self.reach {
                    Reach::WholeSchool => true,
                    // An erased person's operations are refused and stored emptied anyway;
                    // their places are gone, so they could not be judged by them.
                    Reach::Classes(classes) => {
                        r.is_erased(person)?
                            || classes.iter().try_fold(false, |found, class| {
                                Ok::<_, StoreError>(found || r.people_of_class(*class)?.contains(&person))
                            })?
                    }
                }
            }
        })
    }
}
