from django.urls import path

from sla import views, views_statement

app_name = "sla"

urlpatterns = [
    path("reports/", views.reports, name="reports"),
    path("reports/sla/", views.sla_report, name="report"),
    path("reports/sla/breaches.csv", views.breaches_csv, name="breaches-csv"),
    path("sla/statement/", views_statement.statement, name="statement"),
]
