"""Field length limits of both systems, in one place so tables, documents and tests agree.

Salesforce limits are from the Salesforce field reference (Division, Organization, Task).
Custompms limits are its API contract (the input models of `emulators/custompms/models.py`).
Start-up validation compares the tables with the live schemas, so a limit that changes on
either side is reported before any record is lost.
"""

from __future__ import annotations

# -- Salesforce ------------------------------------------------------------------------------
SF_TASK_SUBJECT = 255
SF_TASK_DESCRIPTION = 32_000
SF_DIVISION_NAME = 80
SF_ORGANIZATION_NAME = 80
SF_PHONE = 40  # Organization.Phone and .Fax
SF_STREET = 255
SF_CITY = 40
SF_STATE = 80
SF_POSTAL_CODE = 20
SF_COUNTRY = 80
SF_PRIMARY_CONTACT = 80

# -- Custompms -------------------------------------------------------------------------------
PMS_NAME = 255  # customer and project name, task title
PMS_PERSON_NAME = 255  # contact_name, owner, assignee
PMS_PHONE = 40  # phone, fax
PMS_STREET = 255
PMS_PLACE = 120  # address.city, .state, .country
PMS_POSTAL_CODE = 20
PMS_LOCALE = 35
PMS_TIME_ZONE = 64
PMS_LONG_TEXT = 32_000  # description, notes
