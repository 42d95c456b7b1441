//! Which objects `wait` and `status` look at: `KIND/NAME` arguments, the objects of manifests
//! (`-f`), or those matching a label selector (`-l`), optionally in all namespaces (`-A`, alone:
//! every object of the kinds, as `kubectl get -A` lists them).

use std::path::PathBuf;

use rollwatch_tracker::{Error, Tracker, apply, manifests, select};
use rollwatch_verdict::{ObjectRef, canonical_kind};

#[derive(clap::Args, Debug, Clone)]
pub struct TargetArgs {
    /// Objects as KIND/NAME (deployment/web, sts/db, job/migrate), or as kubectl's KIND NAME...
    /// (deployment web api); with -l or -A, the kinds to look at (default: deployments,
    /// statefulsets, daemonsets and jobs).
    #[arg(value_name = "KIND/NAME")]
    pub objects: Vec<String>,
    /// Manifests whose objects to look at (files, directories, - for standard input).
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Read the directories given with -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// The objects whose labels match this selector (e.g. app=web,tier!=cache).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Look in all namespaces: with -l, at the objects it selects; alone, at every object of
    /// the kinds.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

impl TargetArgs {
    /// The objects as KIND/NAME: kubectl's `KIND NAME...` (`deployment web api`, no slash
    /// anywhere) names `deployment/web` and `deployment/api`.
    fn named_objects(&self) -> Vec<String> {
        match self.objects.as_slice() {
            [kind, names @ ..] if !names.is_empty() && !self.objects.iter().any(|text| text.contains('/')) => {
                names.iter().map(|name| format!("{kind}/{name}")).collect()
            }
            _ => self.objects.clone(),
        }
    }

    /// The label selector the objects are chosen by: `-l`'s, or with `-A` alone, one that every
    /// object matches.
    fn selector(&self) -> Option<&str> {
        self.selector.as_deref().or(self.all_namespaces.then_some(""))
    }

    /// Checks the combination of arguments before anything talks to the cluster.
    pub fn check(&self) -> Result<(), Error> {
        let selecting = self.selector().is_some();
        let ways = [!self.files.is_empty(), selecting, !self.objects.is_empty() && !selecting];
        match ways.iter().filter(|&&w| w).count() {
            0 => return Err(Error::input("name the objects: KIND/NAME arguments, -f PATH, -l SELECTOR or -A")),
            1 => {}
            _ => return Err(Error::input("name the objects one way: KIND/NAME arguments, -f PATH, -l SELECTOR or -A")),
        }
        if selecting {
            if let Some(named) = self.objects.iter().find(|o| o.contains('/')) {
                return Err(Error::input(format!("with -l or -A, give kinds (deployment, sts), not objects: {named}")));
            }
        } else {
            for object in self.named_objects() {
                object.parse::<ObjectRef>().map_err(|e| Error::input(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// The objects, each with its namespace.
    pub async fn resolve(&self, tracker: &Tracker, namespace: &str, explicit_namespace: Option<&str>) -> Result<Vec<ObjectRef>, Error> {
        if let Some(selector) = self.selector() {
            let kinds: Vec<(String, String)> =
                if self.objects.is_empty() { select::default_kinds() } else { self.objects.iter().map(|k| canonical_kind(k)).collect() };
            let scope = (!self.all_namespaces).then_some(namespace);
            return select::select(tracker, &kinds, selector, scope).await;
        }
        if !self.files.is_empty() {
            let read = manifests::read(&self.files, self.recursive)?;
            let options = apply::ApplyOptions { namespace: explicit_namespace.map(str::to_string), force_conflicts: false, field_manager: None };
            return Ok(apply::plan(tracker, read, &options).await?.objects());
        }
        let mut objects = Vec::new();
        for text in self.named_objects() {
            let object = text.parse::<ObjectRef>().map_err(|e| Error::input(e.to_string()))?;
            objects.push(object.in_namespace(namespace));
        }
        Ok(objects)
    }
}
