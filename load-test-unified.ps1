<#
.SYNOPSIS
    Load tests the redis-stream-demo ingress (POST /api/requests).

.DESCRIPTION
    A thin front door for the Bun load tester in tools/load-test: each parameter maps to one
    option of `bun run load-test`, and all the logic lives there. It prints a summary with
    throughput, latency percentiles (from an HDR histogram), failures by status and cause and the
    fleet's theoretical capacity, and exits non-zero when the error rate is above -MaxErrorRate.

    Modes: sequential (one request at a time), concurrent (closed loop, -Concurrency connections),
    rate (open loop, -Rate requests per second on a clock; latency counts from each request's
    scheduled time, so a stalled server cannot hide its queueing).

    Requires Bun (https://bun.sh) on PATH.

.PARAMETER Mode
    sequential, concurrent or rate. Default: sequential.

.PARAMETER Url
    Base URL of the ingress. Default: http://localhost:3000.

.PARAMETER Count
    Number of requests to send. Default: 10 (unless -Duration is given).

.PARAMETER Timeout
    Per-request deadline in seconds, also sent to the server as timeoutMs. Default: 30.

.PARAMETER Concurrency
    Connections in concurrent mode (default 10); in rate mode, the cap on requests in flight.

.PARAMETER Rate
    Requests per second in rate mode.

.PARAMETER Duration
    Seconds to keep sending (instead of, or together with, -Count).

.PARAMETER Html
    Write a self-contained HTML report (charts, no network needed) to this file.

.PARAMETER Json
    Write machine-readable results to this file.

.PARAMETER ProcessingMs
    Ask the simulator to take this many milliseconds per request.

.PARAMETER Payload
    JSON payload of each request.

.PARAMETER Async
    Use Prefer: respond-async (202) and poll for each result.

.PARAMETER ApiKey
    API key for an ingress that requires one (sent as Authorization: Bearer). The environment
    variable LOAD_TEST_API_KEY works too and keeps the key out of the command history.

.PARAMETER MaxErrorRate
    Exit non-zero above this error rate, as a percentage like 1% or a fraction like 0.01. Default: 1%.

.EXAMPLE
    ./load-test-unified.ps1
    Ten sequential requests against http://localhost:3000.

.EXAMPLE
    ./load-test-unified.ps1 -Mode concurrent

.EXAMPLE
    ./load-test-unified.ps1 -Url http://redis-stream-demo.local -Mode concurrent -Concurrency 200 -Duration 30 -Html report.html

.EXAMPLE
    ./load-test-unified.ps1 -Mode rate -Rate 500 -Duration 60 -Json results.json
#>
[CmdletBinding()]
param(
    [ValidateSet('sequential', 'concurrent', 'rate')]
    [string]$Mode = 'sequential',

    [string]$Url = 'http://localhost:3000',

    [ValidateRange(1, 2147483647)]
    [int]$Count = 10,

    [ValidateRange(0.001, 300)]
    [double]$Timeout = 30,

    [ValidateRange(1, 65000)]
    [int]$Concurrency,

    [ValidateRange(0.001, 1000000)]
    [double]$Rate,

    [ValidateRange(0.001, 86400)]
    [double]$Duration,

    [string]$Html,

    [string]$Json,

    [ValidateRange(0, 300000)]
    [int]$ProcessingMs,

    [string]$Payload,

    [switch]$Async,

    [string]$ApiKey,

    [string]$MaxErrorRate
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$bun = Get-Command -Name 'bun' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if ($null -eq $bun) {
    Write-Error -Message 'Bun is not installed or not on PATH. Install it from https://bun.sh (Windows: powershell -c "irm bun.sh/install.ps1 | iex"; Linux/macOS: curl -fsSL https://bun.sh/install | bash), open a new shell, and run this script again.' -ErrorAction Continue
    exit 127
}

# Numbers are passed in invariant culture, so 0.5 stays 0.5 on a German or French system.
$invariant = [System.Globalization.CultureInfo]::InvariantCulture
$toolArgs = @()

# Only parameters the caller gave are passed on: the tool's own defaults are the same as the
# defaults above, and it infers the mode from -Rate or -Concurrency when -Mode is not given.
if ($PSBoundParameters.ContainsKey('Mode')) { $toolArgs += @('--mode', $Mode) }
if ($PSBoundParameters.ContainsKey('Url')) { $toolArgs += @('--url', $Url) }
if ($PSBoundParameters.ContainsKey('Count')) { $toolArgs += @('--count', $Count.ToString($invariant)) }
if ($PSBoundParameters.ContainsKey('Timeout')) { $toolArgs += @('--timeout', $Timeout.ToString($invariant)) }
if ($PSBoundParameters.ContainsKey('Concurrency')) { $toolArgs += @('--concurrency', $Concurrency.ToString($invariant)) }
if ($PSBoundParameters.ContainsKey('Rate')) { $toolArgs += @('--rate', $Rate.ToString($invariant)) }
if ($PSBoundParameters.ContainsKey('Duration')) { $toolArgs += @('--duration', $Duration.ToString($invariant)) }
if ($PSBoundParameters.ContainsKey('Html')) { $toolArgs += @('--html', $Html) }
if ($PSBoundParameters.ContainsKey('Json')) { $toolArgs += @('--json', $Json) }
if ($PSBoundParameters.ContainsKey('ProcessingMs')) { $toolArgs += @('--processing-ms', $ProcessingMs.ToString($invariant)) }
if ($PSBoundParameters.ContainsKey('Payload')) {
    # Windows PowerShell before 7.3 strips the double quotes of JSON passed to a native program
    # unless they are escaped; 7.3 and later pass arguments as given.
    $payloadArg = $Payload
    if ($PSVersionTable.PSVersion -lt [version]'7.3') { $payloadArg = $Payload -replace '"', '\"' }
    $toolArgs += @('--payload', $payloadArg)
}
if ($Async.IsPresent) { $toolArgs += '--async' }
if ($PSBoundParameters.ContainsKey('ApiKey')) { $toolArgs += @('--api-key', $ApiKey) }
if ($PSBoundParameters.ContainsKey('MaxErrorRate')) { $toolArgs += @('--max-error-rate', $MaxErrorRate) }

$entryPoint = Join-Path -Path $PSScriptRoot -ChildPath 'tools/load-test/main.ts'
& $bun.Source $entryPoint @toolArgs
exit $LASTEXITCODE
