@echo off
rem Poste Public - fin de session d'un poste Windows (docs/deployer-10-postes.md).
rem Lancé par le kiosque (end_command) à la fin de chaque session, sous le compte des visiteurs :
rem efface ce que le visiteur a laissé, puis ferme la session Windows ; l'ouverture automatique
rem rouvre aussitôt une session propre, et le kiosque redémarre avec elle.
taskkill /f /im msedge.exe /im chrome.exe /im firefox.exe >nul 2>&1
rd /s /q "%LOCALAPPDATA%\Microsoft\Edge\User Data" >nul 2>&1
rd /s /q "%LOCALAPPDATA%\Google\Chrome\User Data" >nul 2>&1
rd /s /q "%APPDATA%\Mozilla\Firefox\Profiles" >nul 2>&1
del /f /s /q "%USERPROFILE%\Downloads\*" >nul 2>&1
del /f /s /q "%USERPROFILE%\Documents\*" >nul 2>&1
del /f /s /q "%USERPROFILE%\Desktop\*" >nul 2>&1
shutdown /l /f
