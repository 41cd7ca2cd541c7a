//! Roster files: the simple `username,display_name` CSV a teacher types in a spreadsheet, and
//! the OneRoster 1.1 CSV files (`users.csv`, `classes.csv`, `enrollments.csv`) a school's
//! information system exports. Parsing is all-or-nothing: every bad line is reported with a
//! reason, and the caller imports nothing unless the list of problems is empty.

use serde::Serialize;
use std::collections::{HashMap, HashSet};

use super::Role;
use super::school::{clean_name, normalize_username};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

fn err(line: u64, message: impl Into<String>) -> LineError {
    LineError { line, message: message.into() }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterPerson {
    pub line: u64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub external_id: Option<String>,
    pub disabled: bool,
}

/// A family account and the student it belongs to, by sourcedId, from `agentSourcedIds`
/// (a parent's row naming the child, or a child's row naming the parent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterFamilyLink {
    pub line: u64,
    pub family_sourced_id: String,
    pub student_sourced_id: String,
}

/// The simple class roster: `username,display_name`, one student a line, an optional header.
pub fn parse_simple(csv_text: &str) -> Result<Vec<RosterPerson>, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let mut people = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(err(line, format!("cannot be read as CSV ({e})")));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if line == 1 && record.get(0).is_some_and(|f| f.eq_ignore_ascii_case("username")) {
            continue;
        }
        if record.len() != 2 {
            errors.push(err(line, format!("expected 2 fields (username,display_name), found {}", record.len())));
            continue;
        }
        let username = match normalize_username(&record[0]) {
            Ok(u) => u,
            Err(e) => {
                errors.push(err(line, e.0));
                continue;
            }
        };
        let display_name = match clean_name(&record[1], "display name") {
            Ok(n) => n,
            Err(e) => {
                errors.push(err(line, e.0));
                continue;
            }
        };
        if !seen.insert(username.clone()) {
            errors.push(err(line, format!("the username \"{username}\" appears twice in the file")));
            continue;
        }
        people.push(RosterPerson {
            line,
            username,
            display_name,
            role: Role::Student,
            external_id: None,
            disabled: false,
        });
    }
    if people.is_empty() && errors.is_empty() {
        errors.push(err(1, "the file has no students in it"));
    }
    if errors.is_empty() { Ok(people) } else { Err(errors) }
}

/// A OneRoster class (`classes.csv`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterClass {
    pub line: u64,
    pub sourced_id: String,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterEnrollment {
    pub line: u64,
    pub class_sourced_id: String,
    pub user_sourced_id: String,
    pub role: Role,
}

/// A class place a delta export marks `tobedeleted`, by the sourcedIds of its class and user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterRemoval {
    pub line: u64,
    pub class_sourced_id: String,
    pub user_sourced_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OneRoster {
    pub users: Vec<RosterPerson>,
    pub classes: Vec<RosterClass>,
    pub enrollments: Vec<RosterEnrollment>,
    /// Family links named by `agentSourcedIds`, each pair once. A side missing from
    /// users.csv (a delta export) is looked up among the people the school already has.
    pub family_links: Vec<RosterFamilyLink>,
    /// sourcedIds of users marked `tobedeleted`: their accounts are disabled, never erased
    /// (their work stays the school's record until someone erases it on purpose).
    pub deleted_users: Vec<(u64, String)>,
    /// Enrollments marked `tobedeleted`: the class place goes.
    pub removed_enrollments: Vec<RosterRemoval>,
}

/// A file error names the file, so a school's IT person knows where to look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileLineError {
    pub file: &'static str,
    pub line: u64,
    pub message: String,
}

struct Table {
    file: &'static str,
    columns: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn parse(file: &'static str, text: &str, required: &[&str], errors: &mut Vec<FileLineError>) -> Option<Table> {
        if text.trim().is_empty() {
            errors.push(FileLineError {
                file,
                line: 1,
                message: format!("{file} is empty or was not chosen: choose the {file} from your export"),
            });
            return None;
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                errors.push(FileLineError { file, line: 1, message: format!("cannot be read as CSV ({e})") });
                return None;
            }
        };
        let columns: HashMap<String, usize> = headers.iter().enumerate().map(|(i, h)| (h.to_string(), i)).collect();
        let missing: Vec<&str> = required.iter().copied().filter(|c| !columns.contains_key(*c)).collect();
        if !missing.is_empty() {
            errors.push(FileLineError {
                file,
                line: 1,
                message: format!("the header is missing the column(s) {}", missing.join(", ")),
            });
            return None;
        }
        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            match record {
                Ok(r) => {
                    let line = r.position().map(|p| p.line()).unwrap_or(index as u64 + 2);
                    if !r.iter().all(str::is_empty) {
                        rows.push((line, r));
                    }
                }
                Err(e) => errors.push(FileLineError {
                    file,
                    line: e.position().map(|p| p.line()).unwrap_or(index as u64 + 2),
                    message: format!("cannot be read as CSV ({e})"),
                }),
            }
        }
        Some(Table { file, columns, rows })
    }

    fn get<'r>(&self, row: &'r csv::StringRecord, column: &str) -> &'r str {
        self.columns.get(column).and_then(|&i| row.get(i)).unwrap_or("")
    }

    /// OneRoster bulk files leave `status` empty; delta files mark removed rows.
    fn deleted(&self, row: &csv::StringRecord) -> bool {
        self.get(row, "status").eq_ignore_ascii_case("tobedeleted")
    }
}

fn oneroster_role(raw: &str) -> Option<Role> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "student" => Some(Role::Student),
        "teacher" | "aide" => Some(Role::Teacher),
        // OneRoster's administrators stay administrators; a school's leaders (principals,
        // coordinators: readers, not managers) are made by hand.
        "administrator" => Some(Role::Admin),
        "parent" | "guardian" | "relative" => Some(Role::Family),
        _ => None,
    }
}

/// Parses the three OneRoster 1.1 CSV files and checks they agree with each other.
pub fn parse_oneroster(
    users_csv: &str,
    classes_csv: &str,
    enrollments_csv: &str,
) -> Result<OneRoster, Vec<FileLineError>> {
    let mut errors = Vec::new();
    let users = Table::parse(
        "users.csv",
        users_csv,
        &["sourcedId", "enabledUser", "role", "username", "givenName", "familyName"],
        &mut errors,
    );
    let classes = Table::parse("classes.csv", classes_csv, &["sourcedId", "title"], &mut errors);
    let enrollments =
        Table::parse("enrollments.csv", enrollments_csv, &["classSourcedId", "userSourcedId", "role"], &mut errors);
    let (Some(users), Some(classes), Some(enrollments)) = (users, classes, enrollments) else {
        return Err(errors);
    };
    let mut out = OneRoster::default();
    let mut bad = |t: &Table, line: u64, message: String| errors.push(FileLineError { file: t.file, line, message });

    let mut user_roles: HashMap<String, Role> = HashMap::new();
    let mut usernames = HashSet::new();
    let mut deleted_users = HashSet::new();
    // (line, this row's sourcedId, its role, the sourcedIds its agentSourcedIds names)
    let mut agents: Vec<(u64, String, Role, Vec<String>)> = Vec::new();
    for (line, row) in &users.rows {
        let sourced_id = users.get(row, "sourcedId");
        if sourced_id.is_empty() {
            bad(&users, *line, "sourcedId is empty".into());
            continue;
        }
        if users.deleted(row) {
            // A delta export's removed row may carry nothing but its sourcedId.
            if !deleted_users.insert(sourced_id.to_string()) || user_roles.contains_key(sourced_id) {
                bad(&users, *line, format!("the sourcedId \"{sourced_id}\" appears twice"));
            } else {
                out.deleted_users.push((*line, sourced_id.to_string()));
            }
            continue;
        }
        let Some(role) = oneroster_role(users.get(row, "role")) else {
            bad(&users, *line, format!("\"{}\" is not a OneRoster role", users.get(row, "role")));
            continue;
        };
        let username = match normalize_username(users.get(row, "username")) {
            Ok(u) => u,
            Err(e) => {
                bad(&users, *line, e.0);
                continue;
            }
        };
        let full = format!("{} {}", users.get(row, "givenName"), users.get(row, "familyName"));
        let display_name = match clean_name(&full, "name") {
            Ok(n) => n,
            Err(e) => {
                bad(&users, *line, e.0);
                continue;
            }
        };
        let disabled = match users.get(row, "enabledUser").to_ascii_lowercase().as_str() {
            "true" | "" => false,
            "false" => true,
            other => {
                bad(&users, *line, format!("enabledUser must be true or false, not \"{other}\""));
                continue;
            }
        };
        if user_roles.insert(sourced_id.to_string(), role).is_some() || deleted_users.contains(sourced_id) {
            bad(&users, *line, format!("the sourcedId \"{sourced_id}\" appears twice"));
            continue;
        }
        let named: Vec<String> = users
            .get(row, "agentSourcedIds")
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        if !named.is_empty() {
            agents.push((*line, sourced_id.to_string(), role, named));
        }
        if !usernames.insert(username.clone()) {
            bad(&users, *line, format!("the username \"{username}\" appears twice"));
            continue;
        }
        out.users.push(RosterPerson {
            line: *line,
            username,
            display_name,
            role,
            external_id: Some(sourced_id.to_string()),
            disabled,
        });
    }

    let mut linked = HashSet::new();
    for (line, own_id, own_role, named) in agents {
        for agent in named {
            // Either side may be missing from a delta export's users.csv; the import then
            // finds it among the school's people, and reports the line if it is not there.
            let (family, student) = match (own_role, user_roles.get(&agent).copied()) {
                (Role::Family, None | Some(Role::Student)) => (own_id.clone(), agent),
                (Role::Student, None | Some(Role::Family)) => (agent, own_id.clone()),
                (Role::Family | Role::Student, Some(other)) => {
                    bad(
                        &users,
                        line,
                        format!(
                            "agentSourcedIds names \"{agent}\", a {other}: a parent, guardian or relative names \
                             their children, and a student names their family"
                        ),
                    );
                    continue;
                }
                // Teachers' and administrators' agents are not families.
                _ => continue,
            };
            if linked.insert((family.clone(), student.clone())) {
                out.family_links.push(RosterFamilyLink {
                    line,
                    family_sourced_id: family,
                    student_sourced_id: student,
                });
            }
        }
    }

    let mut class_ids = HashSet::new();
    for (line, row) in &classes.rows {
        if classes.deleted(row) {
            continue;
        }
        let sourced_id = classes.get(row, "sourcedId");
        if sourced_id.is_empty() {
            bad(&classes, *line, "sourcedId is empty".into());
            continue;
        }
        let title = match clean_name(classes.get(row, "title"), "class title") {
            Ok(t) => t,
            Err(e) => {
                bad(&classes, *line, e.0);
                continue;
            }
        };
        if !class_ids.insert(sourced_id.to_string()) {
            bad(&classes, *line, format!("the sourcedId \"{sourced_id}\" appears twice"));
            continue;
        }
        out.classes.push(RosterClass { line: *line, sourced_id: sourced_id.to_string(), title });
    }

    for (line, row) in &enrollments.rows {
        let class_sourced_id = enrollments.get(row, "classSourcedId");
        let user_sourced_id = enrollments.get(row, "userSourcedId");
        if enrollments.deleted(row) {
            // folio keeps no enrollment sourcedIds, so a removal must name its class and user;
            // either may be one the school already has rather than one in these files.
            if class_sourced_id.is_empty() || user_sourced_id.is_empty() {
                bad(
                    &enrollments,
                    *line,
                    "a tobedeleted enrollment must still name its classSourcedId and userSourcedId".into(),
                );
            } else {
                out.removed_enrollments.push(RosterRemoval {
                    line: *line,
                    class_sourced_id: class_sourced_id.to_string(),
                    user_sourced_id: user_sourced_id.to_string(),
                });
            }
            continue;
        }
        if !class_ids.contains(class_sourced_id) {
            bad(&enrollments, *line, format!("the class \"{class_sourced_id}\" is not in classes.csv"));
            continue;
        }
        let Some(&person_role) = user_roles.get(user_sourced_id) else {
            if deleted_users.contains(user_sourced_id) {
                // The person is leaving: their places go with them, so there is nothing to add.
                continue;
            }
            bad(&enrollments, *line, format!("the user \"{user_sourced_id}\" is not in users.csv"));
            continue;
        };
        let role = match oneroster_role(enrollments.get(row, "role")) {
            Some(Role::Student) => Role::Student,
            Some(Role::Teacher) | Some(Role::Admin) => Role::Teacher,
            _ => {
                bad(
                    &enrollments,
                    *line,
                    format!("\"{}\" is not a class role (student, teacher, aide)", enrollments.get(row, "role")),
                );
                continue;
            }
        };
        if !super::policy::valid_class_role(person_role, role) {
            bad(
                &enrollments,
                *line,
                format!("\"{user_sourced_id}\" is a {person_role} in users.csv and cannot be enrolled as a {role}"),
            );
            continue;
        }
        out.enrollments.push(RosterEnrollment {
            line: *line,
            class_sourced_id: class_sourced_id.to_string(),
            user_sourced_id: user_sourced_id.to_string(),
            role,
        });
    }

    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_roster_reports_every_bad_line() {
        let people = parse_simple("username,display_name\nana,Ana Pérez\nben,Ben\n").unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].display_name, "Ana Pérez");
        let errors = parse_simple("ana,Ana\nbad name,Bad\nana,Again\ncarl\n").unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }

    #[test]
    fn oneroster_checks_references_between_files() {
        let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName\n\
                     u1,,,true,org1,student,ana,,Ana,Pérez\n\
                     t1,,,true,org1,teacher,mrs.t,,Tina,Teach\n";
        let classes = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds\nc1,,,Year 3 Art,03,,,scheduled,,org1,\n";
        let good = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\ne1,,,c1,org1,u1,student,,,\ne2,,,c1,org1,t1,teacher,true,,\n";
        let roster = parse_oneroster(users, classes, good).unwrap();
        assert_eq!((roster.users.len(), roster.classes.len(), roster.enrollments.len()), (2, 1, 2));
        let bad = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\ne1,,,c9,org1,u1,student\n";
        let errors = parse_oneroster(users, classes, bad).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].file, errors[0].line), ("enrollments.csv", 2));
        let wrong_role = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\ne1,,,c1,org1,t1,student\n";
        let errors = parse_oneroster(users, classes, wrong_role).unwrap_err();
        assert!(errors[0].message.contains("is a teacher"), "{:?}", errors);
        let missing = parse_oneroster(users, "", good).unwrap_err();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].file, "classes.csv");
        assert!(missing[0].message.contains("not chosen"));
    }

    #[test]
    fn oneroster_reads_families_and_removals() {
        let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,agentSourcedIds\n\
                     u1,,,true,org1,student,ana,,Ana,Pérez,p2\n\
                     u2,,,true,org1,student,ben,,Ben,Pérez,\n\
                     p1,,,true,org1,parent,mum,,Marta,Pérez,\"u1,u2\"\n\
                     p2,,,true,org1,guardian,gran,,Rosa,Pérez,u1\n\
                     t1,,,true,org1,teacher,mrs.t,,Tina,Teach,u1\n\
                     gone,tobedeleted,,,,,,,,,\n";
        let classes = "sourcedId,status,title\nc1,,Art\n";
        let enrollments = "sourcedId,status,classSourcedId,userSourcedId,role\n\
                           e1,,c1,u1,student\n\
                           e2,tobedeleted,c1,u2,student\n\
                           e3,,c1,gone,student\n";
        let roster = parse_oneroster(users, classes, enrollments).unwrap();
        let pairs: Vec<(&str, &str)> =
            roster.family_links.iter().map(|l| (l.family_sourced_id.as_str(), l.student_sourced_id.as_str())).collect();
        // u1 names p2 and p2 names u1: one link, not two; the teacher's agent is no family.
        assert_eq!(pairs, vec![("p2", "u1"), ("p1", "u1"), ("p1", "u2")]);
        assert!(roster.users.iter().any(|u| u.username == "mum" && u.role == Role::Family));
        assert_eq!(roster.deleted_users, vec![(7, "gone".to_string())]);
        assert_eq!(roster.removed_enrollments.len(), 1);
        assert_eq!(roster.removed_enrollments[0].user_sourced_id, "u2");
        assert_eq!(roster.enrollments.len(), 1, "the leaving user's place is not added");

        let wrong = users.replace("mum,,Marta,Pérez,\"u1,u2\"", "mum,,Marta,Pérez,t1");
        let errors = parse_oneroster(&wrong, classes, enrollments).unwrap_err();
        assert_eq!((errors[0].file, errors[0].line), ("users.csv", 4), "{errors:?}");
        assert!(errors[0].message.contains("a teacher"), "{errors:?}");
        let nameless = enrollments.replace("e2,tobedeleted,c1,u2", "e2,tobedeleted,,");
        let errors = parse_oneroster(users, classes, &nameless).unwrap_err();
        assert_eq!((errors[0].file, errors[0].line), ("enrollments.csv", 3), "{errors:?}");
    }
}
