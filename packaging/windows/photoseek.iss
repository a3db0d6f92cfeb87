; Inno Setup script: photoseek-VERSION-windows-amd64-setup.exe from the one-folder bundle.
;
; Build on Windows, after `python packaging\build.py --torch-index https://download.pytorch.org/whl/cpu`:
;     iscc /DAppVersion=0.1.0 packaging\windows\photoseek.iss
; (build.py's build-info.json and pyproject.toml hold the version; pass the same one.)
;
; Per-user install by default (no administrator prompt: {localappdata}\Programs\photoseek),
; machine-wide when the user picks "Install for all users". The library, thumbnails, weights
; and settings live in the user's own folders (README, Where data lives) and are never touched
; by the installer or the uninstaller.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z photoseek.iss
#endif
#define AppName "photoseek"
#define Bundle "..\dist\photoseek"

[Setup]
; AppId is packaging/projectinfo.py's WINDOWS_APP_ID: never change it, upgrades find the old
; install by it ({{ escapes the brace)
AppId={{8C4E2A51-6F0B-4C7A-9E3D-1B5F0A7D2C64}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=photoseek developers
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; torch 2.x and Qt 6 need Windows 10 1809 or later
MinVersion=10.0.17763
OutputDir=..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-amd64-setup
; build.py writes it on Windows (windows/makeicon.py: the PNG sizes in one .ico)
SetupIconFile=..\build\photoseek.ico
UninstallDisplayIcon={app}\photoseek-app.exe
; lzma2 on a gigabyte of libraries: about a third of the size, minutes to compress
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; the app must not run while its files are replaced
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add photoseek to PATH (the command line in new terminals)"; Flags: unchecked

[Files]
; the whole bundle: photoseek.exe (console: the command line, `watch`), photoseek-app.exe
; (no console window: the app), _internal\
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\photoseek-app.exe"; AppUserModelID: "org.photoseek.photoseek"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\photoseek-app.exe"; Tasks: desktopicon

[Registry]
; the user's PATH, for `photoseek` in a terminal (per-user installs only touch HKCU)
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\photoseek-app.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; the login watcher (photoseek service install) goes with the program
Filename: "{app}\photoseek.exe"; Parameters: "service uninstall"; Flags: runhidden; RunOnceId: "RemoveService"

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
