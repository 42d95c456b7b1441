//! `-o name`, as kubectl prints it: one `KIND/NAME` per line for each object the command acted
//! on (applied, paused, set an image on, ...) or that reached the goal, each once; nothing else
//! on standard output, so the lines can feed another command.

use std::collections::HashSet;

use rollwatch_tracker::{Outcome, Update};
use rollwatch_verdict::ObjectRef;

use super::{Note, Reporter};
use crate::sanitize::inline;

#[derive(Default)]
pub struct NameList {
    printed: HashSet<ObjectRef>,
}

impl NameList {
    fn print(&mut self, object: &ObjectRef) {
        if self.printed.insert(object.clone()) {
            println!("{}", inline(&object.to_string()));
        }
    }
}

impl Reporter for NameList {
    fn note(&mut self, note: &Note) {
        if let Some(object) = &note.object {
            self.print(object);
        }
    }

    fn update(&mut self, _: &Update) {}

    fn finish(&mut self, outcome: &Outcome, _: u8) {
        for object in outcome.objects.iter().filter(|object| object.reached) {
            self.print(&object.object);
        }
    }
}
