//! File uploads and downloads of the web UI. The upload form's multipart post is streamed
//! to temporary files and handed to [`Muster::import`], and its result is shown as a
//! summary or an error table. Template and export downloads cover every CSV format.
//!
//! The same upload component serves an integration's page (entities, relations,
//! entitlements, AWS authorization details) and the Employees page (employees, identity
//! mappings, business owners).

use super::integrations::IntegrationView;
use super::render::{ErrorPage, PageError};
use crate::error::ApiError;
use crate::extract::IntegrationRef;
use crate::AppState;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use muster_csv::{CsvKind, ExportMode};
use muster_domain::{App, ExtractionType, Integration};
use muster_service::{ImportFiles, ImportKind, ImportOptions, ImportReport, Muster};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Largest upload the form accepts, 256 MiB. Files are streamed to disk, never held in
/// memory, so the limit only bounds disk use.
pub(crate) const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

const HX_REQUEST: HeaderName = HeaderName::from_static("hx-request");

/// Why an upload or download handler failed, as the response to send: a page, or the
/// internal error whose cause is logged and not shown.
pub(crate) struct UiError(Box<Response>);

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<PageError> for UiError {
    fn from(error: PageError) -> Self {
        UiError(Box::new(error.into_response()))
    }
}

impl From<muster_service::ServiceError> for UiError {
    fn from(error: muster_service::ServiceError) -> Self {
        PageError::from(error).into()
    }
}

impl From<minijinja::Error> for UiError {
    fn from(error: minijinja::Error) -> Self {
        PageError::from(error).into()
    }
}

impl From<ErrorPage> for UiError {
    fn from(page: ErrorPage) -> Self {
        UiError(Box::new(page.into_response()))
    }
}

fn internal(code: &str, cause: impl std::fmt::Display) -> UiError {
    UiError(Box::new(ApiError::internal(code, cause).into_response()))
}

fn not_found(message: String) -> UiError {
    ErrorPage::not_found(message).into()
}

fn error_page(status: StatusCode, title: &str, message: impl Into<String>) -> UiError {
    ErrorPage::new(status, title, message).into()
}

pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get(HX_REQUEST).is_some_and(|value| value == "true")
}

/// Lists the formats an integration takes, in the order the form shows them. Empty when the
/// integration reads its data directly.
pub(crate) fn integration_formats(integration: &Integration) -> Vec<&'static str> {
    if !integration.extraction_type.receives_files() {
        return Vec::new();
    }
    let mut formats = Vec::new();
    if integration.app == App::Aws && integration.extraction_type == ExtractionType::Upload {
        formats.push(ImportKind::AwsAuthorizationDetails.as_str());
    }
    formats.extend(
        [
            CsvKind::Entities,
            CsvKind::EntityRelations,
            CsvKind::Entitlements,
        ]
        .map(CsvKind::as_str),
    );
    formats
}

/// The formats of the Employees page.
pub(crate) const PEOPLE_FORMATS: [&str; 3] = ["employees", "identity-mappings", "business-owners"];

/// The fields of a posted upload form, with its files saved in `dir`.
struct UploadRequest {
    format: String,
    skip_invalid_rows: bool,
    file_name: String,
    main: Option<PathBuf>,
    credential_report: Option<PathBuf>,
    /// Removed, with the files, when the request is dropped.
    _dir: tempfile::TempDir,
}

/// Reads the multipart form, streaming each file part to its own temporary file.
async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<UploadRequest, UiError> {
    let mut multipart = multipart.map_err(|rejection| {
        PageError::bad_request(format!(
            "the upload form was not sent as multipart/form-data: {}",
            rejection.body_text()
        ))
    })?;
    let dir = tempfile::Builder::new()
        .prefix("muster-upload-")
        .tempdir()
        .map_err(|error| internal("upload.temp_dir", error))?;
    let mut request = UploadRequest {
        format: String::new(),
        skip_invalid_rows: false,
        file_name: String::new(),
        main: None,
        credential_report: None,
        _dir: dir,
    };

    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "format" => {
                request.format = field
                    .text()
                    .await
                    .map_err(multipart_error)?
                    .trim()
                    .to_string()
            }
            "skip_invalid_rows" => {
                let value = field.text().await.map_err(multipart_error)?;
                request.skip_invalid_rows = !matches!(value.trim(), "" | "0" | "false" | "off");
            }
            "file" | "credential_report" => {
                let file_name = field.file_name().unwrap_or_default().to_string();
                let path = request._dir.path().join(&name);
                if save_field(field, &path).await? == 0 {
                    continue;
                }
                if name == "file" {
                    request.file_name = file_name;
                    request.main = Some(path);
                } else {
                    request.credential_report = Some(path);
                }
            }
            // Other parts are skipped by the next call.
            _ => {}
        }
    }
    Ok(request)
}

/// Writes a file part to `path` chunk by chunk and returns its size.
async fn save_field(mut field: Field<'_>, path: &std::path::Path) -> Result<u64, UiError> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|error| internal("upload.temp_file", error))?;
    let mut written = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        file.write_all(&chunk)
            .await
            .map_err(|error| internal("upload.temp_file", error))?;
        written += chunk.len() as u64;
    }
    file.flush()
        .await
        .map_err(|error| internal("upload.temp_file", error))?;
    Ok(written)
}

fn multipart_error(error: MultipartError) -> UiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let limit = MAX_UPLOAD_BYTES / (1024 * 1024);
        return error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "File too large",
            format!("The upload is larger than {limit} MiB. Split the file, or send it through the bulk API."),
        );
    }
    UiError::from(PageError::bad_request(format!(
        "the upload could not be read: {}",
        error.body_text()
    )))
}

/// The result of an upload, as the component shows it.
#[derive(Serialize)]
pub(crate) struct UploadResult {
    title: String,
    file_name: String,
    report: ImportReport,
    /// More problems were found than listed.
    capped: bool,
    /// Counts of what changed (tenant-wide formats), as label and number.
    changes: Vec<(String, String)>,
}

impl UploadResult {
    fn new(kind: ImportKind, file_name: String, report: ImportReport) -> UploadResult {
        let changes = report
            .changes
            .as_ref()
            .and_then(|changes| changes.as_object())
            .map(|object| {
                object
                    .iter()
                    .map(|(key, value)| {
                        let text = value
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| value.to_string());
                        (key.replace('_', " "), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        UploadResult {
            title: format_title(kind.as_str()).to_string(),
            file_name,
            capped: report.problem_count > report.problems.len() as u64,
            report,
            changes,
        }
    }

    pub fn applied(&self) -> bool {
        self.report.applied
    }
}

/// Returns the title a page shows for a format name.
pub(crate) fn format_title(format: &str) -> &'static str {
    match format.parse::<ImportKind>() {
        Ok(ImportKind::Csv(kind)) => kind.title(),
        Ok(ImportKind::AwsAuthorizationDetails) => "AWS authorization details (JSON)",
        Err(_) => "Unknown format",
    }
}

/// The upload form's values to show again, and the result of the last upload.
#[derive(Default, Serialize)]
pub(crate) struct UploadState {
    pub format: String,
    pub skip_invalid_rows: bool,
    pub error: Option<String>,
    pub result: Option<UploadResult>,
}

/// Runs the upload `request` as an import into `integration` (for the formats of an
/// integration) or into the tenant, and returns what the component shows.
async fn run_upload(
    muster: &Muster,
    request: &UploadRequest,
    allowed: &[&str],
    integration: Option<&str>,
) -> Result<UploadState, UiError> {
    let mut state = UploadState {
        format: request.format.clone(),
        skip_invalid_rows: request.skip_invalid_rows,
        ..UploadState::default()
    };
    let kind = match request.format.parse::<ImportKind>() {
        Ok(kind) if allowed.contains(&kind.as_str()) => kind,
        _ => {
            state.error = Some(format!(
                "choose one of the formats listed: {}",
                allowed.join(", ")
            ));
            return Ok(state);
        }
    };
    let Some(main) = request.main.as_deref() else {
        state.error = Some("choose a file to upload: the file field was empty".to_string());
        return Ok(state);
    };
    if request.credential_report.is_some() && kind != ImportKind::AwsAuthorizationDetails {
        state.error =
            Some("a credential report goes only with AWS authorization details".to_string());
        return Ok(state);
    }

    let options = ImportOptions {
        skip_invalid_rows: request.skip_invalid_rows,
        trigger: "ui".to_string(),
    };
    let files = ImportFiles {
        main,
        credential_report: request.credential_report.as_deref(),
    };
    let report = muster
        .import(
            muster.default_tenant(),
            kind,
            integration,
            files,
            &options,
            &|_| {},
        )
        .await;
    match report {
        Ok(report) => {
            state.result = Some(UploadResult::new(kind, request.file_name.clone(), report))
        }
        // The file is not at fault, but the person can act on the message.
        Err(muster_service::ServiceError::Validation(errors)) => {
            let messages: Vec<String> = errors
                .errors
                .iter()
                .map(|error| error.message.clone())
                .collect();
            state.error = Some(messages.join("; "));
        }
        Err(muster_service::ServiceError::Conflict { message, .. }) => state.error = Some(message),
        Err(other) => return Err(other.into()),
    }
    if let Some(error) = &state.error {
        tracing::info!(
            format = kind.as_str(),
            integration,
            error,
            "upload not imported"
        );
    }
    Ok(state)
}

/// Picks the status of an upload's response. A rejected file is 422 for a plain form post, but
/// htmx gets 200 because it swaps only successful responses.
fn upload_status(upload: &UploadState, headers: &HeaderMap) -> StatusCode {
    let failed = upload.error.is_some()
        || upload
            .result
            .as_ref()
            .is_some_and(|result| !result.applied());
    if failed && !is_htmx(headers) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// Receives the upload form of an integration page.
pub(crate) async fn upload_to_integration(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, UiError> {
    let integration = state
        .muster
        .find_integration(state.muster.default_tenant(), &id)
        .await?;
    let formats = integration_formats(&integration);
    if formats.is_empty() {
        return Err(error_page(
            StatusCode::CONFLICT,
            "No uploads",
            format!(
                "{} reads its data directly (extraction type {}): it takes no files.",
                integration.name,
                integration.extraction_type.as_str()
            ),
        ));
    }
    let request = read_upload(multipart).await?;
    let upload = run_upload(
        &state.muster,
        &request,
        &formats,
        Some(integration.id.as_str()),
    )
    .await?;
    let status = upload_status(&upload, &headers);
    let integration = state
        .muster
        .find_integration(state.muster.default_tenant(), &id)
        .await?;
    let html = state.pages.render(
        "upload_result.html",
        context! {
            nav => "integrations",
            integration => IntegrationView::new(&integration, false),
            formats,
            upload,
        },
    )?;
    Ok((status, Html(html)).into_response())
}

/// Receives the upload form of the Employees page.
pub(crate) async fn upload_people(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, UiError> {
    let request = read_upload(multipart).await?;
    let upload = run_upload(&state.muster, &request, &PEOPLE_FORMATS, None).await?;
    let status = upload_status(&upload, &headers);
    let html = super::people::render_employees(&state, upload).await?;
    Ok((status, Html(html)).into_response())
}

/// Reads the format from the `{file}` segment of a download path, e.g. `entities.csv`.
fn csv_kind(params: &[(String, String)]) -> Result<CsvKind, UiError> {
    let file = params
        .iter()
        .find(|(key, _)| key == "file")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    file.strip_suffix(".csv")
        .and_then(|name| name.parse::<CsvKind>().ok())
        .ok_or_else(|| not_found(format!("`{file}` names no CSV format")))
}

/// Downloads the header line of a format, to fill in.
pub(crate) async fn template(
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let kind = csv_kind(&params)?;
    Ok(csv_download(
        &format!("{}-template.csv", kind.as_str()),
        kind.template().into_bytes(),
    ))
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct ExportQuery {
    /// `raw` for programs; anything else is the safe export for spreadsheets.
    mode: String,
}

impl ExportQuery {
    fn mode(&self) -> ExportMode {
        if self.mode == "raw" {
            ExportMode::Raw
        } else {
            ExportMode::Safe
        }
    }
}

/// Exports a format of an integration.
pub(crate) async fn export_integration(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    Path(params): Path<Vec<(String, String)>>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, UiError> {
    let kind = csv_kind(&params)?;
    if !matches!(
        kind,
        CsvKind::Entities | CsvKind::EntityRelations | CsvKind::Entitlements
    ) {
        return Err(not_found(format!(
            "{} are exported from the Employees page",
            kind.title()
        )));
    }
    let integration = state
        .muster
        .find_integration(state.muster.default_tenant(), &id)
        .await?;
    let mut output = Vec::new();
    state
        .muster
        .export(
            state.muster.default_tenant(),
            kind,
            Some(integration.id.as_str()),
            query.mode(),
            &mut output,
        )
        .await?;
    let name = format!(
        "{}-{}{}.csv",
        file_stem(&integration.name),
        kind.as_str(),
        raw_suffix(query.mode())
    );
    Ok(csv_download(&name, output))
}

/// Exports a tenant-wide format: employees, identity mappings or business owners.
pub(crate) async fn export_people(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, UiError> {
    let kind = csv_kind(&params)?;
    if !PEOPLE_FORMATS.contains(&kind.as_str()) {
        return Err(not_found(format!(
            "{} are exported from their integration's page",
            kind.title()
        )));
    }
    let mut output = Vec::new();
    state
        .muster
        .export(
            state.muster.default_tenant(),
            kind,
            None,
            query.mode(),
            &mut output,
        )
        .await?;
    Ok(csv_download(
        &format!("{}{}.csv", kind.as_str(), raw_suffix(query.mode())),
        output,
    ))
}

fn raw_suffix(mode: ExportMode) -> &'static str {
    match mode {
        ExportMode::Raw => "-raw",
        ExportMode::Safe => "",
    }
}

/// Builds a file name from the letters and digits of `name`, other runs turned into `-`.
fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            stem.push(c.to_ascii_lowercase());
        } else if !stem.ends_with('-') && !stem.is_empty() {
            stem.push('-');
        }
    }
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() {
        "integration".to_string()
    } else {
        stem.to_string()
    }
}

/// Builds a response the browser saves as a CSV file. `name` must contain only safe characters.
fn csv_download(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems() {
        assert_eq!(file_stem("HR system (EU)"), "hr-system-eu");
        assert_eq!(file_stem("***"), "integration");
    }
}
